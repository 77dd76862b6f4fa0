/*
 * test-journal-sigbus.c - SIGBUS recovery of the journal source.
 *
 * 1. sigbus.c alone: a page of a truncated shared mapping is read inside an
 *    armed region; the process survives, reads zeros, the fault is counted.
 * 2. The journal source on a copy of the corpus journal: read a first batch,
 *    truncate the file under the reader (what journald < 255 does to files a
 *    reader has mapped), keep reading. The process must survive, report the
 *    source down while the file is broken, ingest no garbage, and once the
 *    file is whole again resume at the exact entry: the store must then be
 *    identical, family by family, to a run that was never disturbed.
 *
 * Usage: test-journal-sigbus CORPUS_JOURNAL_FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../harness.h"

#include "ingest.h"
#include "macro.h"
#include "metrics.h"
#include "sigbus.h"
#include "source_journal.h"
#include "store.h"
#include "util.h"

static const char *corpus_journal;
static char work_dir[] = "/tmp/pte-sigbus-XXXXXX";

static double get(Store *st, unsigned family, const char *label)
{
	Slice v = slice_from(label);
	return store_get(st, family, label ? &v : NULL);
}

static void test_sigbus_module(void)
{
	char path[4096];
	long ps = sysconf(_SC_PAGESIZE);
	snprintf(path, sizeof(path), "%s/mapped", work_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	require(fd >= 0);
	require(ftruncate(fd, 2 * ps) == 0);
	volatile unsigned char *m = mmap(NULL, 2 * (size_t)ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	require(m != MAP_FAILED);
	m[ps] = 0x5a;
	check(m[ps] == 0x5a);
	check(ftruncate(fd, ps) == 0); /* the second page is now past EOF */

	require(sigbus_install() == 0);
	uint64_t before = sigbus_faults();
	sigbus_arm();
	unsigned char c = m[ps + 17]; /* SIGBUS without the handler */
	sigbus_disarm();
	check(c == 0);
	check(sigbus_faults() == before + 1);
	check(m[0] == 0); /* the first page is untouched */
	munmap((void *)m, 2 * (size_t)ps);
	close(fd);
	unlink(path);
	printf("ok - sigbus module: fault at %p recovered, read zeros\n", (void *)(m + ps + 17));
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t n;
	require(in && out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		check(fwrite(buf, 1, n, out) == n);
	fclose(in);
	return fclose(out);
}

/* restore the content in place: same inode, as if the damage was undone */
static void restore_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_CLOEXEC);
	char buf[65536];
	ssize_t n;
	require(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		check(write(out, buf, (size_t)n) == n);
	close(in);
	close(out);
}

typedef struct Run {
	Store *store;
	Ingest *ingest;
	Source *src;
} Run;

static void run_open(Run *r, const char *file)
{
		IngestConfig icfg = INGEST_CONFIG_DEFAULT;
	char *files[] = { (char *)file, NULL };
	SourceJournalConfig cfg = {
		.start = SOURCE_START_BEGINNING,
		.files = files,
	};
	require(store_new(&r->store, metrics_families, _M_MAX, 100000) == 0);
	require(ingest_new(&r->ingest, r->store, &icfg, NULL) == 0);
	require(source_journal_new(&r->src, r->ingest, r->store, &cfg) == 0);
}

static void run_close(Run *r)
{
	r->src = source_free(r->src);
	r->ingest = ingest_free(r->ingest);
	r->store = store_free(r->store);
}

static int drain(Run *r)
{
	int n = 0, k;
	while ((k = r->src->ops->process(r->src, now_monotonic_usec() + 10 * USEC_PER_SEC)) > 0)
		require(++n < 100000);
	return k;
}

static bool skipped_family(unsigned f)
{
	return f == M_SOURCE_UP || f == M_PROCESS_CPU || f == M_PROCESS_RSS || f == M_PROCESS_VSIZE ||
	       f == M_PROCESS_OPEN_FDS || f == M_PROCESS_MAX_FDS || f == M_PROCESS_START_TIME;
}

/* same_stores - every series of every log-derived family equal in a and b */
static void same_stores(Store *a, Store *b)
{
	/* counters the ingest keeps itself are published by its collector */
	store_collect(a);
	store_collect(b);
	for (unsigned f = 0; f < _M_MAX; f++) {
		const Series *const *sa, *const *sb;
		size_t na, nb;
		if (skipped_family(f))
			continue;
		check(store_sorted(a, f, &sa, &na) == 0);
		/* store_sorted's array lives until the next store call on that store */
		const Series **copy = calloc(na + 1, sizeof(*copy));
		require(copy);
		memcpy(copy, sa, na * sizeof(*copy));
		check(store_sorted(b, f, &sb, &nb) == 0);
		if (!checkf(na == nb, "family %s: %zu series vs %zu", metrics_families[f].name, na, nb)) {
			free(copy);
			continue;
		}
		for (size_t i = 0; i < na; i++) {
			for (unsigned l = 0; l < metrics_families[f].n_labels; l++)
				check(slice_eq(copy[i]->values[l], sb[i]->values[l]));
			checkf(copy[i]->value == sb[i]->value, "family %s series %zu: %g vs %g", metrics_families[f].name, i,
			       copy[i]->value, sb[i]->value);
		}
		free(copy);
	}
}

/* used_size - offset after the last non-zero byte (journal files are
 * preallocated with zeros; the arena's objects end there) */
static off_t used_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	off_t used = 0, pos = 0;
	int c;
	require(f);
	while ((c = getc(f)) != EOF) {
		pos++;
		if (c)
			used = pos;
	}
	fclose(f);
	return used;
}

/* test_source_truncated - cut the file at `cut` bytes after one batch.
 * sigbus: the cut must raise SIGBUS (else sd-journal may notice the new size
 * itself and return an error, which takes the same reopen path).
 * mid_batch: entries of a later batch were handled before the failure, so the
 * reopen has to skip entries past the checkpoint. */
static void test_source_truncated(const char *corpus, const char *dir, off_t cut, bool sigbus, bool mid_batch)
{
	char path[4096], orig[4096];
	Run ref = { 0 }, run = { 0 };
	struct stat st;

	snprintf(path, sizeof(path), "%s/system.journal", dir);
	snprintf(orig, sizeof(orig), "%s/pristine.journal", dir);
	require(copy_file(corpus, orig) == 0);
	require(copy_file(corpus, path) == 0);
	require(stat(path, &st) == 0);

	/* the undisturbed run */
	run_open(&ref, orig);
	check(drain(&ref) == 0);
	double total = get(ref.store, M_JOURNAL_ENTRIES_READ, NULL);
	check(total > 2 * SOURCE_JOURNAL_BATCH);

	run_open(&run, path);
	check(run.src->up);
	/* A deadline in the past: one batch, then process() yields. */
	check(run.src->ops->process(run.src, 0) == 1);
	check(get(run.store, M_JOURNAL_ENTRIES_READ, NULL) == SOURCE_JOURNAL_BATCH);

	/* Cut the file under the reader's mapping, past the first batch's data. */
	uint64_t faults = sigbus_faults();
	check(truncate(path, cut) == 0);
	check(drain(&run) == 0);
	if (sigbus)
		check(sigbus_faults() > faults); /* the SIGBUS really happened ... */
	check(!run.src->up);             /* ... and the source is down, not the process */
	check(get(run.store, M_SOURCE_UP, "journal") == 0);
	double partial = get(run.store, M_JOURNAL_ENTRIES_READ, NULL);
	check(partial >= SOURCE_JOURNAL_BATCH && partial < total);
	if (mid_batch)
		check((uint64_t)partial % SOURCE_JOURNAL_BATCH != 0);
	printf("ok - truncated at %lld bytes under the reader: %s after %g of %g entries, source down\n",
	       (long long)cut, sigbus_faults() > faults ? "SIGBUS recovered" : "read error", partial, total);

	/* Broken file: retries fail quietly, nothing is counted. */
	usleep((useconds_t)(SOURCE_JOURNAL_RETRY_USEC + 100000));
	check(drain(&run) == 0);
	check(!run.src->up);
	check(get(run.store, M_JOURNAL_ENTRIES_READ, NULL) == partial);

	/* The file comes back: resume exactly where we were. */
	restore_file(orig, path);
	int64_t t = run.src->ops->timeout_usec(run.src);
	check(t >= 0 && t <= SOURCE_JOURNAL_RETRY_USEC);
	usleep((useconds_t)(t + 100000));
	check(drain(&run) == 0);
	check(run.src->up);
	check(get(run.store, M_SOURCE_UP, "journal") == 1);
	check(get(run.store, M_JOURNAL_ENTRIES_READ, NULL) == total);
	same_stores(ref.store, run.store);
	printf("ok - file restored: resumed at the exact entry, all families equal an undisturbed run\n");

	run_close(&run);
	run_close(&ref);
	unlink(path);
	unlink(orig);
}

/* The offsets are for the corpus's legacy-format journal with sd-journal
 * 252: objects start after the 3.7 MB data hash table, so a cut at 64 KiB
 * faults right after the first batch's checkpoint and one at 4300 KiB in
 * the middle of the fourth batch, inside a window that is already mapped.
 * At 80 % of the used size the next object lies in a window not mapped
 * yet: sd-journal re-stats the file and returns -EADDRNOTAVAIL instead. */
static void test_cut_after_checkpoint(void)
{
	test_source_truncated(corpus_journal, work_dir, 64 * 1024, true, false);
}

static void test_cut_mid_batch(void)
{
	test_source_truncated(corpus_journal, work_dir, 4300 * 1024, true, true);
}

static void test_cut_unmapped(void)
{
	test_source_truncated(corpus_journal, work_dir, used_size(corpus_journal) / 10 * 8, false, true);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_JOURNAL_FILE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	corpus_journal = argv[1];
	require(mkdtemp(work_dir));
	test_run(test_sigbus_module);
	test_run(test_cut_after_checkpoint);
	test_run(test_cut_mid_batch);
	test_run(test_cut_unmapped);
	rmdir(work_dir);
	return test_exit();
}
