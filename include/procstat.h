/*
 * procstat.h - the standard process_* metrics from /proc/self.
 */
#pragma once

#include "store.h"

/* procstat_register - add a collector that refreshes process_* before each scrape. */
int procstat_register(Store *s);
