/* The one place natter's version lives. */
#ifndef NATTER_VERSION_H
#define NATTER_VERSION_H
#define NATTER_VERSION "0.1.0"
#endif
