/*
 * fuzz-webconfig.c - libFuzzer target for the web configuration parser.
 *
 * The input is a whole config file. It is parsed as if it lived in a
 * directory that does not exist, so relative certificate paths fail fast
 * instead of reading whatever the fuzzer's working directory holds; inline
 * cert/key seeds in the corpus still reach the GnuTLS checks.
 */
#include <stdint.h>
#include <stdlib.h>

#include "webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	WebConfig *c = NULL;
	char *err = NULL;

	int r = webconfig_parse((const char *)data, size, "/nonexistent/fuzz/web.yml", &c, &err);
	if (r < 0) {
		/* Every failure must explain itself. */
		if (!err)
			abort();
		free(err);
		return 0;
	}
	if (err)
		abort();
	/* Touch every accessor so the sanitizers see the whole object. */
	(void)webconfig_tls_enabled(c);
	(void)webconfig_tls_priorities(c);
	(void)webconfig_client_auth(c);
	for (size_t i = 0; i < webconfig_n_headers(c); i++) {
		const char *n, *v;
		webconfig_header(c, i, &n, &v);
		if (!n || !v)
			abort();
	}
	/* No bcrypt here: a cost-31 hash would stall the fuzzer for days. */
	webconfig_free(c);
	return 0;
}
