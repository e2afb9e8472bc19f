/*
 * Reports a terminal sends on its own (not keys): the SGR mouse report, without curses so
 * that it is unit tested and fuzzed. keyread.c reads the bytes, this says what they mean.
 */
#ifndef NATTER_TERMREPORT_H
#define NATTER_TERMREPORT_H

#include <stddef.h>

/* A mouse report (SGR, CSI < b ; x ; y M/m): button code, 0-based cell, press or release. */
struct termreport_mouse {
	int button, x, y, press;
};

/* Parse the rest of an SGR mouse report after CSI <: "B;X;Y" and M (press) or m
 * (release), X and Y from 1. Returns 0 and fills m (cells from 0), or -1. */
int termreport_mouse(const char *s, size_t n, struct termreport_mouse *m);

#endif
