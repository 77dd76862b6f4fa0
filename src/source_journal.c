/* source_journal.c - placeholder until the sd-journal reader lands. */
#include <errno.h>

#include "source_journal.h"

int source_journal_new(Source **ret, Ingest *ingest, Store *store, const SourceJournalConfig *cfg)
{
	return -EOPNOTSUPP;
}

bool source_journal_available(void)
{
	return false;
}
