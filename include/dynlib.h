/*
 * dynlib.h - the libraries only the daemon needs, loaded when first needed.
 *
 * DESCRIPTION
 *	libmicrohttpd, GnuTLS and libsystemd, with the dozen libraries they
 *	bring, are not linked: --once, report and backfill over files use
 *	none of them, and mapping and relocating them cost every run about
 *	7 ms and 2.5 MB of resident memory. src/dynlib.c defines each of
 *	their functions this program calls, with the library's own prototype,
 *	and forwards the call to the library once loaded. A module that uses
 *	one calls dynlib_load() where it can still report an error; a call
 *	before that loads the library then, or ends the process saying why.
 */
#pragma once

typedef enum DynLib {
	DYNLIB_MHD,                     /* libmicrohttpd.so.12 */
	DYNLIB_GNUTLS,                  /* libgnutls.so.30 */
	DYNLIB_SYSTEMD,                 /* libsystemd.so.0 */
	_DYNLIB_MAX,
} DynLib;

/* dynlib_load - load lib and look up every function of it this program
 * calls; nothing if it is loaded already. Return: 0, or -ELIBACC with the
 * library's name and dlerror()'s reason logged. */
int dynlib_load(DynLib lib);
