/* peers.c - placeholder until per-peer accounting lands: accepts and drops. */
#include <errno.h>
#include <stdlib.h>

#include "peers.h"

struct Peers {
	Store *store;
};

int peers_new(Peers **ret, Store *store, const PeersConfig *cfg)
{
	Peers *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->store = store;
	*ret = p;
	return 0;
}

Peers *peers_free(Peers *p)
{
	free(p);
	return NULL;
}

void peers_inbound_session(Peers *p, const PeerSession *s) {}
void peers_outbound_delivery(Peers *p, const PeerDelivery *d) {}
