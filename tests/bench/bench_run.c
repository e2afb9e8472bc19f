/*
 * Interleaved timing for the benchmark scripts: each round runs every command once, the
 * order turning by one each round, so that a change in the machine's load (the benchmarks
 * share two cores with whatever else runs) lands on every command alike instead of on one
 * command's batch, as it does when hyperfine runs all runs of one command before the next.
 * A command is a shell string run as `/bin/sh -c 'exec CMD'`, output to /dev/null; its
 * wall time comes from the monotonic clock around fork and wait4, and its peak memory from
 * wait4's ru_maxrss (the exec'd program's, which replaces the shell). An optional setup
 * command runs before each run, untimed (to reset a store, or wait for a background fold).
 * Prints each command's medians and runs, and a line `median NAME SECONDS KIB` per command
 * for the script to read. Exits 1 when a command fails.
 *   bench_run [-r ROUNDS] [-w WARMUP] [-s SETUP] NAME CMD [NAME CMD ...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_MAX 8      /* commands */
#define RUN_ROUNDS 200 /* rounds at most */

/* Monotonic seconds as a double. */
static double
run_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Compare doubles for qsort. */
static int
run_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of n values (a copy is sorted). */
static double
run_median(const double *v, int n)
{
	double s[RUN_ROUNDS];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), run_cmp);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* Run cmd under the shell, output to /dev/null; its wall time into *wall and peak KiB
 * into *kib. 0 when it exited 0. */
static int
run_one(const char *cmd, double *wall, long *kib)
{
	struct rusage ru;
	double t0 = run_now();
	int status, fd;
	pid_t pid;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			return -1;
	*wall = run_now() - t0;
	*kib = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Run the setup command, if any; exit when it fails. */
static void
run_setup(const char *setup)
{
	int rc;

	if (setup == NULL)
		return;
	if ((rc = system(setup)) != 0) {
		fprintf(stderr, "bench_run: setup failed (%d): %s\n", rc, setup);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static double wall[RUN_MAX][RUN_ROUNDS], rss[RUN_MAX][RUN_ROUNDS];
	const char *setup = NULL, *name[RUN_MAX], *cmd[RUN_MAX];
	char *exec_cmd[RUN_MAX];
	int rounds = 15, warmup = 1, n = 0, opt, r, i, k;
	double w;
	long kib;

	while ((opt = getopt(argc, argv, "r:w:s:")) != -1) {
		if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 'w')
			warmup = atoi(optarg);
		else if (opt == 's')
			setup = optarg;
		else
			return 2;
	}
	if (rounds < 1 || rounds > RUN_ROUNDS || warmup < 0 || (argc - optind) % 2 != 0 ||
	    argc - optind < 2 || (argc - optind) / 2 > RUN_MAX) {
		fprintf(stderr, "usage: bench_run [-r ROUNDS<=%d] [-w WARMUP] [-s SETUP] NAME CMD"
		    " [NAME CMD ...] (at most %d)\n", RUN_ROUNDS, RUN_MAX);
		return 2;
	}
	for (i = optind; i < argc; i += 2, n++) {
		size_t len = strlen(argv[i + 1]) + 6;

		name[n] = argv[i];
		cmd[n] = argv[i + 1];
		exec_cmd[n] = malloc(len);
		if (exec_cmd[n] == NULL)
			return 1;
		snprintf(exec_cmd[n], len, "exec %s", cmd[n]);
	}
	for (r = -warmup; r < rounds; r++) {
		for (k = 0; k < n; k++) {
			i = ((r < 0 ? 0 : r) + k) % n;
			run_setup(setup);
			if (run_one(exec_cmd[i], &w, &kib) != 0) {
				fprintf(stderr, "bench_run: %s failed: %s\n", name[i], cmd[i]);
				return 1;
			}
			if (r >= 0) {
				wall[i][r] = w;
				rss[i][r] = (double)kib;
			}
		}
	}
	for (i = 0; i < n; i++) {
		printf("%-14s wall median %8.2f ms, peak RSS median %7.0f KiB; runs ms:", name[i],
		    run_median(wall[i], rounds) * 1e3, run_median(rss[i], rounds));
		for (r = 0; r < rounds; r++)
			printf(" %.1f", wall[i][r] * 1e3);
		printf("\n");
	}
	for (i = 0; i < n; i++) {
		printf("median %s %.6f %.0f\n", name[i], run_median(wall[i], rounds),
		    run_median(rss[i], rounds));
		free(exec_cmd[i]);
	}
	return 0;
}
