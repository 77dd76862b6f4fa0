/* webconfig.c - placeholder until the exporter-toolkit parser lands: only
 * "no file" is accepted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "webconfig.h"

struct WebConfig {
	int dummy;
};

int webconfig_parse(const char *data, size_t len, const char *path, WebConfig **ret, char **ret_error)
{
	*ret_error = strdup("web configuration files are not supported yet");
	return -EOPNOTSUPP;
}

int webconfig_load(const char *path, WebConfig **ret, char **ret_error)
{
	if (path)
		return webconfig_parse(NULL, 0, path, ret, ret_error);
	*ret = calloc(1, sizeof(WebConfig));
	return *ret ? 0 : -ENOMEM;
}

WebConfig *webconfig_free(WebConfig *c)
{
	free(c);
	return NULL;
}

bool webconfig_tls_enabled(const WebConfig *c) { return false; }
const char *webconfig_cert_pem(const WebConfig *c) { return NULL; }
const char *webconfig_key_pem(const WebConfig *c) { return NULL; }
const char *webconfig_client_ca_pem(const WebConfig *c) { return NULL; }
WebClientAuth webconfig_client_auth(const WebConfig *c) { return WEB_CLIENT_AUTH_NONE; }
const char *webconfig_tls_priorities(const WebConfig *c) { return NULL; }
bool webconfig_auth_enabled(const WebConfig *c) { return false; }
bool webconfig_check_basic_auth(WebConfig *c, const char *user, const char *password) { return false; }
size_t webconfig_n_headers(const WebConfig *c) { return 0; }
void webconfig_header(const WebConfig *c, size_t i, const char **ret_name, const char **ret_value)
{
	*ret_name = *ret_value = NULL;
}
