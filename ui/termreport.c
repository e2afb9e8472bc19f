/*
 * Parsing what a terminal reports (termreport.h). An SGR mouse report is three decimal
 * fields and a final M or m; anything else, a field too long included, is refused whole,
 * so that a stray sequence never turns into a click.
 */
#include "termreport.h"

/* Parse "B;X;Y" + M/m into m. */
int
termreport_mouse(const char *s, size_t n, struct termreport_mouse *m)
{
	long v[3] = { 0, 0, 0 };
	size_t i;
	int k = 0, digits = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (v[k] > 100000)
				return -1;
			v[k] = v[k] * 10 + (c - '0');
			digits++;
		} else if (c == ';' && k < 2 && digits > 0) {
			k++;
			digits = 0;
		} else if ((c == 'M' || c == 'm') && k == 2 && digits > 0 && i + 1 == n) {
			if (v[1] < 1 || v[2] < 1)
				return -1;
			m->button = (int)v[0];
			m->x = (int)v[1] - 1;
			m->y = (int)v[2] - 1;
			m->press = c == 'M';
			return 0;
		} else {
			return -1;
		}
	}
	return -1;
}
