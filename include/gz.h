/*
 * gz.h - a .gz file read whole, once, as a stream of decompressed pieces.
 *
 * DESCRIPTION
 *	Members of a concatenated gzip file are read one after the other, as
 *	gzread() does; trailing garbage after a member ends the file. With
 *	gz_ahead() a thread of its own inflates the next pieces while the
 *	caller works on the last one.
 */
#pragma once

#include <sys/types.h>

typedef struct Gz Gz;

/* gz_open - read fd (which the Gz owns from now on, also on failure).
 * Return: 0 or -ENOMEM. */
int gz_open(Gz **ret, int fd);
/* gz_close - stop the inflating thread, close the file */
Gz *gz_close(Gz *g);

/* gz_ahead - inflate in a thread of its own from now on, up to a few
 * pieces ahead of gz_next(): the inflating and the work on the bytes then
 * take two cores instead of one after the other.
 * Return: 0, or the negative error of pthread_create() (gz_next() then
 * keeps inflating in the caller's thread). */
int gz_ahead(Gz *g);

/* gz_next - the next piece of decompressed bytes, in *ret, valid until the
 * next call. Return: its length; 0 at the end; -EIO on corrupt or truncated
 * input (gz_error() says which; what was decompressed before the damage
 * came first) or a negative errno of read(2). */
ssize_t gz_next(Gz *g, const char **ret);
/* gz_error - NULL, or why the file ended early ("unexpected end of file"
 * for a truncated one) */
const char *gz_error(const Gz *g);
