/*
 * dynlib.c - libmicrohttpd, GnuTLS and libsystemd, loaded with dlopen()
 * when first needed (see dynlib.h for why).
 *
 * DESCRIPTION
 *	Each function is defined here with the prototype its library's header
 *	declares (the headers are included, so the compiler rejects any
 *	difference) and calls through a pointer that dynlib_load() sets with
 *	dlsym(). The list below is every function the program calls; a new
 *	call to one of these libraries needs a line here, or the link fails
 *	with an undefined symbol. The sonames are those of Debian 12 and of
 *	every release since (libmicrohttpd 0.9.x, GnuTLS 3.x, systemd); the
 *	packages depend on them by name, as dpkg-shlibdeps no longer sees
 *	them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/crypto.h>
#include <microhttpd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "dynlib.h"
#include "log.h"

/* F: a function returning a value; V: one returning void. Arguments: the
 * library, (return type,) name, parameter list, argument list. */
#define FUNCTIONS(F, V)                                                                                              \
	F(DYNLIB_MHD, enum MHD_Result, MHD_add_response_header,                                                      \
	  (struct MHD_Response * response, const char *header, const char *content), (response, header, content))    \
	F(DYNLIB_MHD, struct MHD_Response *, MHD_create_response_from_buffer,                                        \
	  (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode), (size, buffer, mode))                       \
	F(DYNLIB_MHD, struct MHD_Response *, MHD_create_response_from_buffer_with_free_callback_cls,                 \
	  (size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc, void *crfc_cls),                           \
	  (size, buffer, crfc, crfc_cls))                                                                            \
	V(DYNLIB_MHD, MHD_destroy_response, (struct MHD_Response * response), (response))                            \
	F(DYNLIB_MHD, enum MHD_Result, MHD_get_timeout, (struct MHD_Daemon * daemon, MHD_UNSIGNED_LONG_LONG * timeout), \
	  (daemon, timeout))                                                                                         \
	F(DYNLIB_MHD, const char *, MHD_lookup_connection_value,                                                     \
	  (struct MHD_Connection * connection, enum MHD_ValueKind kind, const char *key), (connection, kind, key))    \
	F(DYNLIB_MHD, enum MHD_Result, MHD_queue_response,                                                           \
	  (struct MHD_Connection * connection, unsigned int status_code, struct MHD_Response *response),             \
	  (connection, status_code, response))                                                                       \
	F(DYNLIB_MHD, MHD_socket, MHD_quiesce_daemon, (struct MHD_Daemon * daemon), (daemon))                        \
	F(DYNLIB_MHD, enum MHD_Result, MHD_run, (struct MHD_Daemon * daemon), (daemon))                              \
	V(DYNLIB_MHD, MHD_stop_daemon, (struct MHD_Daemon * daemon), (daemon))                                       \
	F(DYNLIB_MHD, struct MHD_Daemon *, MHD_start_daemon_va,                                                      \
	  (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,                           \
	   MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),                                                  \
	  (flags, port, apc, apc_cls, dh, dh_cls, ap))                                                               \
	F(DYNLIB_GNUTLS, int, gnutls_certificate_allocate_credentials, (gnutls_certificate_credentials_t * res), (res)) \
	V(DYNLIB_GNUTLS, gnutls_certificate_free_credentials, (gnutls_certificate_credentials_t sc), (sc))           \
	F(DYNLIB_GNUTLS, const gnutls_datum_t *, gnutls_certificate_get_peers,                                       \
	  (gnutls_session_t session, unsigned int *list_size), (session, list_size))                                 \
	F(DYNLIB_GNUTLS, int, gnutls_certificate_set_x509_key_mem,                                                   \
	  (gnutls_certificate_credentials_t res, const gnutls_datum_t *cert, const gnutls_datum_t *key,              \
	   gnutls_x509_crt_fmt_t type),                                                                              \
	  (res, cert, key, type))                                                                                    \
	F(DYNLIB_GNUTLS, int, gnutls_certificate_verify_peers2, (gnutls_session_t session, unsigned int *status),    \
	  (session, status))                                                                                         \
	F(DYNLIB_GNUTLS, const char *, gnutls_cipher_get_name, (gnutls_cipher_algorithm_t algorithm), (algorithm))   \
	F(DYNLIB_GNUTLS, const char *, gnutls_cipher_suite_info,                                                     \
	  (size_t idx, unsigned char *cs_id, gnutls_kx_algorithm_t *kx, gnutls_cipher_algorithm_t *cipher,           \
	   gnutls_mac_algorithm_t *mac, gnutls_protocol_t *min_version),                                             \
	  (idx, cs_id, kx, cipher, mac, min_version))                                                                \
	F(DYNLIB_GNUTLS, int, gnutls_hash_fast,                                                                      \
	  (gnutls_digest_algorithm_t algorithm, const void *text, size_t textlen, void *digest),                     \
	  (algorithm, text, textlen, digest))                                                                        \
	F(DYNLIB_GNUTLS, const char *, gnutls_kx_get_name, (gnutls_kx_algorithm_t algorithm), (algorithm))           \
	F(DYNLIB_GNUTLS, const char *, gnutls_mac_get_name, (gnutls_mac_algorithm_t algorithm), (algorithm))         \
	F(DYNLIB_GNUTLS, int, gnutls_memcmp, (const void *s1, const void *s2, size_t n), (s1, s2, n))                \
	F(DYNLIB_GNUTLS, const char *, gnutls_pk_get_name, (gnutls_pk_algorithm_t algorithm), (algorithm))           \
	V(DYNLIB_GNUTLS, gnutls_priority_deinit, (gnutls_priority_t priority_cache), (priority_cache))               \
	F(DYNLIB_GNUTLS, int, gnutls_priority_init,                                                                  \
	  (gnutls_priority_t * priority_cache, const char *priorities, const char **err_pos),                        \
	  (priority_cache, priorities, err_pos))                                                                     \
	F(DYNLIB_GNUTLS, const char *, gnutls_protocol_get_name, (gnutls_protocol_t version), (version))             \
	F(DYNLIB_GNUTLS, int, gnutls_rnd, (gnutls_rnd_level_t level, void *data, size_t len), (level, data, len))    \
	F(DYNLIB_GNUTLS, const char *, gnutls_strerror, (int error), (error))                                        \
	V(DYNLIB_GNUTLS, gnutls_x509_crt_deinit, (gnutls_x509_crt_t cert), (cert))                                   \
	F(DYNLIB_GNUTLS, int, gnutls_x509_crt_get_pk_algorithm, (gnutls_x509_crt_t cert, unsigned int *bits),        \
	  (cert, bits))                                                                                              \
	F(DYNLIB_GNUTLS, int, gnutls_x509_crt_list_import2,                                                          \
	  (gnutls_x509_crt_t * *certs, unsigned int *size, const gnutls_datum_t *data, gnutls_x509_crt_fmt_t format, \
	   unsigned int flags),                                                                                      \
	  (certs, size, data, format, flags))                                                                        \
	V(DYNLIB_GNUTLS, gnutls_x509_privkey_deinit, (gnutls_x509_privkey_t key), (key))                             \
	F(DYNLIB_GNUTLS, int, gnutls_x509_privkey_import2,                                                           \
	  (gnutls_x509_privkey_t key, const gnutls_datum_t *data, gnutls_x509_crt_fmt_t format, const char *password, \
	   unsigned int flags),                                                                                      \
	  (key, data, format, password, flags))                                                                      \
	F(DYNLIB_GNUTLS, int, gnutls_x509_privkey_init, (gnutls_x509_privkey_t * key), (key))                        \
	F(DYNLIB_SYSTEMD, int, sd_journal_add_disjunction, (sd_journal * j), (j))                                    \
	F(DYNLIB_SYSTEMD, int, sd_journal_add_match, (sd_journal * j, const void *data, size_t size), (j, data, size)) \
	V(DYNLIB_SYSTEMD, sd_journal_close, (sd_journal * j), (j))                                                   \
	F(DYNLIB_SYSTEMD, int, sd_journal_enumerate_data, (sd_journal * j, const void **data, size_t *l), (j, data, l)) \
	F(DYNLIB_SYSTEMD, int, sd_journal_get_cursor, (sd_journal * j, char **cursor), (j, cursor))                  \
	F(DYNLIB_SYSTEMD, int, sd_journal_get_fd, (sd_journal * j), (j))                                             \
	F(DYNLIB_SYSTEMD, int, sd_journal_get_realtime_usec, (sd_journal * j, uint64_t *ret), (j, ret))              \
	F(DYNLIB_SYSTEMD, int, sd_journal_get_timeout, (sd_journal * j, uint64_t *timeout_usec), (j, timeout_usec))  \
	F(DYNLIB_SYSTEMD, int, sd_journal_has_persistent_files, (sd_journal * j), (j))                               \
	F(DYNLIB_SYSTEMD, int, sd_journal_has_runtime_files, (sd_journal * j), (j))                                  \
	F(DYNLIB_SYSTEMD, int, sd_journal_next, (sd_journal * j), (j))                                               \
	F(DYNLIB_SYSTEMD, int, sd_journal_open, (sd_journal * *ret, int flags), (ret, flags))                        \
	F(DYNLIB_SYSTEMD, int, sd_journal_open_directory, (sd_journal * *ret, const char *path, int flags),          \
	  (ret, path, flags))                                                                                        \
	F(DYNLIB_SYSTEMD, int, sd_journal_open_files, (sd_journal * *ret, const char **paths, int flags),            \
	  (ret, paths, flags))                                                                                       \
	F(DYNLIB_SYSTEMD, int, sd_journal_previous, (sd_journal * j), (j))                                           \
	F(DYNLIB_SYSTEMD, int, sd_journal_process, (sd_journal * j), (j))                                            \
	V(DYNLIB_SYSTEMD, sd_journal_restart_data, (sd_journal * j), (j))                                            \
	F(DYNLIB_SYSTEMD, int, sd_journal_seek_cursor, (sd_journal * j, const char *cursor), (j, cursor))            \
	F(DYNLIB_SYSTEMD, int, sd_journal_seek_head, (sd_journal * j), (j))                                          \
	F(DYNLIB_SYSTEMD, int, sd_journal_seek_tail, (sd_journal * j), (j))                                          \
	F(DYNLIB_SYSTEMD, int, sd_journal_set_data_threshold, (sd_journal * j, size_t sz), (j, sz))                  \
	F(DYNLIB_SYSTEMD, int, sd_journal_test_cursor, (sd_journal * j, const char *cursor), (j, cursor))            \
	F(DYNLIB_SYSTEMD, int, sd_listen_fds, (int unset_environment), (unset_environment))                          \
	F(DYNLIB_SYSTEMD, int, sd_notify, (int unset_environment, const char *state), (unset_environment, state))    \
	F(DYNLIB_SYSTEMD, int, sd_watchdog_enabled, (int unset_environment, uint64_t *usec), (unset_environment, usec))

/* variadic functions, forwarded by hand at the end */
#define VARIADIC(P) P(DYNLIB_MHD, MHD_get_connection_info) P(DYNLIB_MHD, MHD_get_daemon_info)

#ifdef DYNLIB_PROBE
/* packaging/debian/rules compiles this file alone with -DDYNLIB_PROBE and
 * links it against the three libraries: dpkg-shlibdeps then finds every
 * function of the list in an executable, and the package depends on the
 * versions that have them. */
#define REF(lib, ret, name, params, args) (void (*)(void))name,
#define REF_V(lib, name, params, args) (void (*)(void))name,
#define REF_VA(lib, name) (void (*)(void))name,
int main(void)
{
	static void (*const used[])(void) = { FUNCTIONS(REF, REF_V) VARIADIC(REF_VA) };
	return used[0] == NULL || gnutls_free == NULL;
}
#else
static const char *const soname[_DYNLIB_MAX] = {
	[DYNLIB_MHD] = "libmicrohttpd.so.12",
	[DYNLIB_GNUTLS] = "libgnutls.so.30",
	[DYNLIB_SYSTEMD] = "libsystemd.so.0",
};

/* the pointers, filled in by dynlib_load() */
#define POINTER(lib, ret, name, params, args) static __typeof__(name) *p_##name;
#define POINTER_V(lib, name, params, args) static __typeof__(name) *p_##name;
#define POINTER_VA(lib, name) static __typeof__(name) *p_##name;
FUNCTIONS(POINTER, POINTER_V)
VARIADIC(POINTER_VA)

/* gnutls_free is a variable holding GnuTLS's free(), and the gnutls_free()
 * macro calls through it; it is copied from the library's at load. */
gnutls_free_function gnutls_free;

typedef struct Symbol {
	DynLib lib;
	const char *name;
	void *slot;                     /* the pointer to set */
} Symbol;

#define SYMBOL(lib, ret, name, params, args) { lib, #name, &p_##name },
#define SYMBOL_V(lib, name, params, args) { lib, #name, &p_##name },
#define SYMBOL_VA(lib, name) { lib, #name, &p_##name },
static const Symbol symbols[] = { FUNCTIONS(SYMBOL, SYMBOL_V) VARIADIC(SYMBOL_VA) };

static void *handle[_DYNLIB_MAX];

int dynlib_load(DynLib lib)
{
	if (handle[lib])
		return 0;
	void *h = dlopen(soname[lib], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_error("cannot load %s: %s", soname[lib], dlerror());
		return -ELIBACC;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		if (symbols[i].lib != lib)
			continue;
		void *sym = dlsym(h, symbols[i].name);
		if (!sym) {
			log_error("cannot load %s: it lacks %s (too old a version?)", soname[lib], symbols[i].name);
			dlclose(h);
			return -ELIBACC;
		}
		/* a function pointer from dlsym's void *, as POSIX allows */
		memcpy(symbols[i].slot, &sym, sizeof(sym));
	}
	if (lib == DYNLIB_GNUTLS) {
		void *var = dlsym(h, "gnutls_free");
		if (!var) {
			log_error("cannot load %s: it lacks gnutls_free", soname[lib]);
			dlclose(h);
			return -ELIBACC;
		}
		memcpy(&gnutls_free, var, sizeof(gnutls_free));
	}
	handle[lib] = h;
	return 0;
}

/* need - a call before its module loaded the library (a test that drives
 * the functions directly): load it now, or there is nothing to call. */
static void need(DynLib lib)
{
	if (dynlib_load(lib) < 0)
		abort();
}

#define FORWARD(lib, ret, name, params, args) \
	ret name params                       \
	{                                     \
		if (!p_##name)                \
			need(lib);            \
		return p_##name args;         \
	}
#define FORWARD_V(lib, name, params, args) \
	void name params                   \
	{                                  \
		if (!p_##name)             \
			need(lib);         \
		p_##name args;             \
	}
FUNCTIONS(FORWARD, FORWARD_V)

/* The variadic ones: MHD's info calls take no arguments beyond the info
 * type for the types asked here, and MHD_start_daemon has a va_list twin. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
							 enum MHD_ConnectionInfoType info_type, ...)
{
	if (!p_MHD_get_connection_info)
		need(DYNLIB_MHD);
	return p_MHD_get_connection_info(connection, info_type);
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon, enum MHD_DaemonInfoType info_type, ...)
{
	if (!p_MHD_get_daemon_info)
		need(DYNLIB_MHD);
	return p_MHD_get_daemon_info(daemon, info_type);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}
#endif
