/*
 * procstat.c - process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds, read as client_golang's process collector does.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "procstat.h"

static double boot_time(void)
{
	static double bt = -1;
	if (bt >= 0)
		return bt;
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	bt = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "btime ", 6) == 0) {
			bt = strtod(line + 6, NULL);
			break;
		}
	if (f)
		fclose(f);
	return bt;
}

static void collect(Store *s, void *userdata)
{
	long tick = sysconf(_SC_CLK_TCK);
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/stat", "re");
	if (f) {
		char buf[1024];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* fields after the parenthesised comm, which may contain spaces */
		char *p = strrchr(buf, ')');
		unsigned long utime = 0, stime = 0, vsize = 0;
		long rss = 0;
		unsigned long long start = 0;
		if (p && sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %llu %lu %ld",
				&utime, &stime, &start, &vsize, &rss) == 5) {
			store_set(s, M_PROCESS_CPU, NULL, (double)(utime + stime) / (double)tick);
			store_set(s, M_PROCESS_VSIZE, NULL, (double)vsize);
			store_set(s, M_PROCESS_RSS, NULL, (double)rss * (double)page);
			store_set(s, M_PROCESS_START_TIME, NULL, boot_time() + (double)start / (double)tick);
		}
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		long n = 0;
		struct dirent *de;
		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		closedir(d);
		store_set(s, M_PROCESS_OPEN_FDS, NULL, (double)(n - 1)); /* minus the DIR's own fd */
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		store_set(s, M_PROCESS_MAX_FDS, NULL, (double)rl.rlim_cur);
}

int procstat_register(Store *s)
{
	return store_add_collector(s, collect, NULL);
}
