/*
 * sigbus.h - survive SIGBUS from a truncated memory-mapped file.
 *
 * sd-journal reads journal files through mmap(). When journald (systemd
 * < 255) truncates a file that a reader still has mapped, the next access
 * past the new end raises SIGBUS and kills the reader (systemd#24320). The
 * handler installed here maps an anonymous zero page over the faulting page
 * and counts the fault, so the access completes (reading zeros) and the
 * caller can notice afterwards that what it read is garbage, drop it and
 * reopen the journal.
 *
 * Only faults inside an armed region are recovered: anything else gets
 * the default action (core dump), exactly as without the handler.
 *
 * THREADS
 *	Process-wide state; meant for the single event-loop thread.
 */
#pragma once

#include <stdint.h>

/* sigbus_install - install the handler (idempotent). Return: 0 or -errno. */
int sigbus_install(void);

/* sigbus_arm / sigbus_disarm - open/close a region in which a BUS_ADRERR
 * fault is recovered instead of fatal. Regions nest. */
void sigbus_arm(void);
void sigbus_disarm(void);

/* sigbus_faults - number of faults recovered since start. Callers compare
 * it before and after a piece of work; a change means data read from a
 * mapping during that work may be zeros instead of file content. */
uint64_t sigbus_faults(void);
