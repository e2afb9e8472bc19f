/*
 * What a request's attachments may be for its model (attach-check.c): each one is checked
 * against the model's models.*.input and the size limit of its model or provider, and is
 * given the form it travels in (its text, or the protocol's own form). The turn runs this
 * on every request before it goes out, so nothing a model cannot take is ever sent.
 */
#ifndef NATTER_ATTACH_CHECK_H
#define NATTER_ATTACH_CHECK_H

#include <stddef.h>

#include "attach.h"

struct model;
struct request;

/* Check every attachment of req for model m and set each one's text form. 0, or -1 with
 * *err (caller frees) saying which file cannot go and why. */
int attach_check_request(struct request *req, const struct model *m, char **err);
/* Check files atts[0..n) as a new message for model m, as the turn will: 0, or -1 with
 * *err (caller frees). A front end starting several turns checks them all first. */
int attach_check_files(struct attach *const *atts, size_t n, const struct model *m,
    char **err);
/* The largest attachment of kind k model m takes, in bytes; *where is "models" or
 * "providers" when the config sets it, NULL for the protocol's own limit. */
size_t attach_check_limit(const struct model *m, enum attach_kind k, const char **where);
/* Extract the text of PDF a once (kept in a->pdf_text) with pdftotext; 0, or -1 with
 * *err when pdftotext is missing or fails. */
int attach_check_pdf_text(struct attach *a, char **err);

#endif
