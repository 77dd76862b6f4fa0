/*
 * sigbus.c - recover from SIGBUS on truncated mmap()ed files.
 *
 * DESCRIPTION
 *	Same idea as systemd's src/basic/sigbus.c: on a BUS_ADRERR fault the
 *	handler replaces the faulting page with an anonymous private page
 *	(MAP_FIXED), so the faulting instruction is restarted and reads
 *	zeros. The fault is only counted; the caller (source_journal) checks
 *	the count after each sd-journal call and after copying entry data,
 *	discards what it read and reopens the journal from its cursor.
 *
 *	Unlike systemd we do not keep the list of fault addresses: the journal
 *	is closed as a whole after a fault, which unmaps every window together
 *	with the anonymous pages laid over them.
 * DIAGNOSTICS
 *	A SIGBUS outside an armed region, with another si_code (alignment,
 *	hardware error), or when mmap() fails, restores the default action and
 *	returns: the instruction faults again and the process dies with a core,
 *	as it would have without this module.
 * SECURITY
 *	mmap() is not on POSIX's async-signal-safe list, but on Linux it is a
 *	plain system call with no user-space locking; systemd relies on this.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sigbus.h"

static atomic_uint_fast64_t sigbus_count;
static volatile sig_atomic_t sigbus_armed;
static uintptr_t sigbus_page_size;
static int sigbus_installed;

static void sigbus_default(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGBUS, &sa, NULL);
}

static void sigbus_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved_errno = errno;

	if (sigbus_armed <= 0 || si->si_code != BUS_ADRERR || !si->si_addr) {
		sigbus_default();
		errno = saved_errno;
		return;
	}
	void *page = (void *)((uintptr_t)si->si_addr & ~(sigbus_page_size - 1));
	void *p = mmap(page, sigbus_page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		sigbus_default();
	else
		atomic_fetch_add_explicit(&sigbus_count, 1, memory_order_relaxed);
	errno = saved_errno;
}

int sigbus_install(void)
{
	if (sigbus_installed)
		return 0;
	long ps = sysconf(_SC_PAGESIZE);
	if (ps <= 0)
		return -EINVAL;
	sigbus_page_size = (uintptr_t)ps;

	struct sigaction sa = { .sa_sigaction = sigbus_handler, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return -errno;
	sigbus_installed = 1;
	return 0;
}

void sigbus_arm(void)
{
	sigbus_armed++;
}

void sigbus_disarm(void)
{
	if (sigbus_armed > 0)
		sigbus_armed--;
}

uint64_t sigbus_faults(void)
{
	return atomic_load_explicit(&sigbus_count, memory_order_relaxed);
}
