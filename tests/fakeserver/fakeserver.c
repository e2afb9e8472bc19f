/*
 * fakeserver: a loopback-only imitation of the OpenAI, Anthropic, Gemini and Ollama chat APIs
 * for natter's integration tests, UI tests and benchmarks (no real provider is reachable from
 * the test machines). This file owns the process: options, the listening socket, one thread
 * per connection (so a stalled or slow stream never holds up another client), the --log file
 * and a clean shutdown on SIGTERM/SIGINT or after --max-seconds. What the server says lives
 * in fs-proto.c; see tests/fakeserver/README.md for the options and magic words.
 *
 *   fakeserver [--port N] [--port-file FILE] [--key KEY]... [--limit-key KEY]... [--log FILE]
 *              [--vectors FILE] [--models-vector NAME]
 *              [--max-seconds S]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fakeserver.h"
#include "xmalloc.h"

/* A live connection, listed so that shutdown can wake its thread. */
struct fs_live {
	struct fs_live *next;
	struct fs_conn *conn;
};

static struct fs_server server;
static int stop_wr = -1;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond = PTHREAD_COND_INITIALIZER;
static struct fs_live *live;
static int live_count;

/* Signal handler: wake everything blocked on the stop pipe (write is async-signal-safe). */
static void
fs_on_signal(int sig)
{
	int saved = errno;
	ssize_t r;

	(void)sig;
	r = write(stop_wr, "x", 1);
	(void)r;
	errno = saved;
}

/* Print usage to stream f. */
static void
fs_usage(FILE *f)
{
	fputs("usage: fakeserver [--port N] [--port-file FILE] [--key KEY]... [--limit-key KEY]...\n"
	      "                  [--log FILE] [--vectors FILE] [--models-vector NAME]\n"
	      "                  [--max-seconds S]\n", f);
}

/*
 * Append one line to the --log file: method, target, header names and the body. Header values
 * are never written so tests can prove a key travels only in headers; a ?key= query value is
 * masked for the same reason. CR/LF in the body become spaces to keep one line per request.
 */
static void
fs_log_request(struct fs_server *srv, const struct fs_request *req)
{
	struct buf line = BUF_INIT;
	const char *k;
	size_t i;
	bool multipart;

	if (srv->log_fd < 0)
		return;
	buf_printf(&line, "%s\t", req->method);
	k = strstr(req->target, "key=");
	if (k != NULL && (k == req->target || k[-1] == '?' || k[-1] == '&')) {
		buf_append(&line, req->target, (size_t)(k - req->target) + 4);
		buf_puts(&line, "REDACTED");
		buf_puts(&line, k + 4 + strcspn(k + 4, "&"));
	} else {
		buf_puts(&line, req->target);
	}
	buf_putc(&line, '\t');
	for (i = 0; i < req->nheaders; i++) {
		if (i > 0)
			buf_putc(&line, ',');
		buf_puts(&line, req->headers[i].name);
	}
	buf_putc(&line, '\t');
	/* A multipart upload is logged as what it holds: binary files stay out of the log. */
	multipart = fs_media_log_body(req, &line);
	for (i = 0; !multipart && i < req->body.len; i++) {
		char ch = req->body.data[i];

		buf_putc(&line, ch == '\n' || ch == '\r' ? ' ' : ch);
	}
	buf_putc(&line, '\n');
	/* One write per line on an O_APPEND file keeps concurrent lines whole. */
	if (write(srv->log_fd, line.data, line.len) < 0)
		perror("fakeserver: log");
	buf_free(&line);
}

/* Add or remove a connection from the live list. */
static void
fs_live_update(struct fs_conn *c, bool add)
{
	pthread_mutex_lock(&live_lock);
	if (add) {
		struct fs_live *l = xcalloc(1, sizeof(*l));

		l->conn = c;
		l->next = live;
		live = l;
		live_count++;
	} else {
		struct fs_live **pp;

		for (pp = &live; *pp != NULL; pp = &(*pp)->next) {
			if ((*pp)->conn == c) {
				struct fs_live *dead = *pp;

				*pp = dead->next;
				free(dead);
				break;
			}
		}
		live_count--;
		pthread_cond_broadcast(&live_cond);
	}
	pthread_mutex_unlock(&live_lock);
}

/* Thread body: serve requests on one connection until it closes or must close. */
static void *
fs_conn_main(void *arg)
{
	struct fs_conn *c = arg;

	for (;;) {
		struct fs_request req;
		int r = fs_http_read_request(c, &req);

		if (r <= 0) {
			if (r < 0 && !c->dead) {
				static const char body[] =
				    "{\"error\":{\"message\":\"fakeserver: malformed HTTP request\","
				    "\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}";

				c->keep_alive = false;
				fs_send_body(c, 400, "application/json", NULL, body, sizeof(body) - 1);
			}
			fs_request_free(&req);
			break;
		}
		fs_log_request(c->srv, &req);
		c->keep_alive = req.keep_alive;
		c->chunked = true;
		fs_proto_handle(c, &req);
		fs_request_free(&req);
		if (c->dead || !c->keep_alive)
			break;
	}
	fs_live_update(c, false);
	close(c->fd);
	buf_free(&c->in);
	free(c);
	return NULL;
}

/* Start a detached thread for a freshly accepted socket. */
static void
fs_spawn(int fd)
{
	struct fs_conn *c = xcalloc(1, sizeof(*c));
	pthread_attr_t attr;
	pthread_t t;
	int one = 1;

	/* Each event must leave at once when the test asks for flushes between tokens. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->srv = &server;
	buf_init(&c->in);
	fs_live_update(c, true);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, fs_conn_main, c) != 0) {
		perror("fakeserver: pthread_create");
		fs_live_update(c, false);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

/* Wake every connection thread and wait (bounded) for them; true when all have finished. */
static bool
fs_stop_all(void)
{
	struct timespec until;
	struct fs_live *l;
	bool done;

	pthread_mutex_lock(&live_lock);
	for (l = live; l != NULL; l = l->next)
		shutdown(l->conn->fd, SHUT_RDWR);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 3;
	while (live_count > 0) {
		if (pthread_cond_timedwait(&live_cond, &live_lock, &until) != 0)
			break;
	}
	done = live_count == 0;
	pthread_mutex_unlock(&live_lock);
	return done;
}

/* Write the port to path atomically (temp file + rename) so readers never see half of it. */
static int
fs_write_port_file(const char *path, int port)
{
	struct buf tmp = BUF_INIT;
	FILE *f;
	int rc = 0;

	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp.data, "w");
	if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp.data, path) != 0) {
		perror("fakeserver: port file");
		rc = -1;
	}
	buf_free(&tmp);
	return rc;
}

/* Open a loopback listening socket on port (0 = ephemeral); returns the fd or -1. */
static int
fs_listen(int port, int *bound)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 256) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

/* Find the vectors file: the option, then $SHARED, then tests/vectors below the working dir. */
static char *
fs_vectors_path(const char *opt)
{
	const char *shared = getenv("SHARED");
	struct stat st;
	char *p;

	if (opt != NULL)
		return xstrdup(opt);
	if (shared != NULL && *shared != '\0') {
		p = xasprintf("%s/stream-vectors.json", shared);
		if (stat(p, &st) == 0)
			return p;
		free(p);
	}
	if (stat("tests/vectors/stream-vectors.json", &st) == 0)
		return xstrdup("tests/vectors/stream-vectors.json");
	return NULL;
}

/* Parse a non-negative integer option or exit with a usage error. */
static long
fs_parse_num(const char *opt, const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || v < 0 || v > max) {
		fprintf(stderr, "fakeserver: bad value for --%s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

/* Entry point: parse options, listen, accept until stopped. */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "key", required_argument, NULL, 'k' },
		{ "limit-key", required_argument, NULL, 'L' },
		{ "log", required_argument, NULL, 'l' },
		{ "vectors", required_argument, NULL, 'v' },
		{ "models-vector", required_argument, NULL, 'M' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *port_file = NULL, *log_path = NULL, *vec_opt = NULL;
	long port = 0, max_seconds = 600;
	struct sigaction sa;
	struct timespec start;
	char *vec_path;
	int pipefd[2], lfd, bound = 0, ch, rc = 0;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': port = fs_parse_num("port", optarg, 65535); break;
		case 'f': port_file = optarg; break;
		case 'k':
			if (server.nkeys == FS_MAX_KEYS) {
				fprintf(stderr, "fakeserver: at most %d --key options\n", FS_MAX_KEYS);
				return 2;
			}
			server.keys[server.nkeys++] = optarg;
			break;
		case 'L':
			if (server.nlimit == FS_MAX_KEYS) {
				fprintf(stderr, "fakeserver: at most %d --limit-key options\n",
				    FS_MAX_KEYS);
				return 2;
			}
			server.limit_keys[server.nlimit++] = optarg;
			break;
		case 'l': log_path = optarg; break;
		case 'v': vec_opt = optarg; break;
		case 'M': server.models_vector = optarg; break;
		case 'm': max_seconds = fs_parse_num("max-seconds", optarg, 86400 * 365); break;
		case 'h': fs_usage(stdout); return 0;
		default: fs_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fs_usage(stderr);
		return 2;
	}

	server.log_fd = -1;
	pthread_mutex_init(&server.lock, NULL);
	if (log_path != NULL) {
		server.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (server.log_fd < 0) {
			perror(log_path);
			return 1;
		}
	}
	vec_path = fs_vectors_path(vec_opt);
	if (vec_path != NULL) {
		struct buf err = BUF_INIT;

		server.vectors = fs_vectors_load(vec_path, &err);
		if (server.vectors == NULL) {
			fprintf(stderr, "fakeserver: %s: %s\n", vec_path, buf_str(&err));
			if (vec_opt != NULL)
				return 1;
		}
		buf_free(&err);
		free(vec_path);
	}

	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
		perror("pipe");
		return 1;
	}
	server.stop_rd = pipefd[0];
	stop_wr = pipefd[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fs_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = fs_listen((int)port, &bound);
	if (lfd < 0) {
		fprintf(stderr, "fakeserver: cannot listen on 127.0.0.1:%ld: %s\n", port,
		    strerror(errno));
		return 1;
	}
	if (port_file != NULL && fs_write_port_file(port_file, bound) != 0)
		return 1;
	printf("PORT %d\n", bound);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p[2] = { { lfd, POLLIN, 0 }, { server.stop_rd, POLLIN, 0 } };
		struct timespec now;
		long long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (long long)max_seconds * 1000 -
		    ((long long)(now.tv_sec - start.tv_sec) * 1000 +
		     (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			fprintf(stderr, "fakeserver: --max-seconds %ld reached, exiting\n", max_seconds);
			if (write(stop_wr, "x", 1) < 0)
				perror("fakeserver: stop");
			break;
		}
		if (poll(p, 2, left > 1000 ? 1000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			rc = 1;
			break;
		}
		if (p[1].revents != 0)
			break;
		if (p[0].revents != 0) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				fs_spawn(fd);
			else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				perror("fakeserver: accept");
		}
	}
	close(lfd);
	if (!fs_stop_all()) {
		/* A thread refused to finish; it may still use the shared state, so leave it be. */
		fprintf(stderr, "fakeserver: connections still open at exit\n");
		return rc;
	}
	pthread_mutex_lock(&server.lock);
	while (server.counters != NULL) {
		struct fs_counter *n = server.counters->next;

		free(server.counters->id);
		free(server.counters);
		server.counters = n;
	}
	pthread_mutex_unlock(&server.lock);
	fs_vectors_free(server.vectors);
	if (server.log_fd >= 0)
		close(server.log_fd);
	return rc;
}
