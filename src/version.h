/* The one place natter's version lives, with the date of that version: the generated
 * natter.yaml(5) carries it in its .TH line, so the page is the same on every build. */
#ifndef NATTER_VERSION_H
#define NATTER_VERSION_H
#define NATTER_VERSION "0.1.0"
#define NATTER_DATE "2026-12-02"
#endif
