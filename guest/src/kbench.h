/* kbench.h - what the kernel-heavy benchmarks share (forkbench, pfbench, pipebench, sysbench).
 *
 * Each program runs one kernel path N times (argv[1], else its default), times the loop with
 * the guest's own monotonic clock and prints one line
 *   NAME: ns=<monotonic ns> iters=<N> per_iter_ns=<ns>
 * which `npm run bench -- vs-semu` reads on both emulators. Errors go to stderr, exit 1.
 */
#ifndef GUEST_KBENCH_H
#define GUEST_KBENCH_H

#include "rt.h"

/* N from argv[1] (a positive integer), else def; -1 after printing usage. */
static RT_UNUSED int kb_rounds(int argc, char **argv, const char *name, uint32_t def, uint32_t *n)
{
	*n = def;
	if (argc > 2 || (argc == 2 && (rt_parse_u32(argv[1], n) < 0 || *n == 0))) {
		rt_puts(2, "usage: ");
		rt_puts(2, name);
		rt_puts(2, " [ROUNDS]\n");
		return -1;
	}
	return 0;
}

/* Prints "<name>: <what> failed: <error>" to stderr and returns 1 (the exit status). */
static RT_UNUSED int kb_fail(const char *name, const char *what, int err)
{
	SB_DECL(s, 128);

	sb_puts(&s, name);
	sb_puts(&s, ": ");
	sb_puts(&s, what);
	sb_puts(&s, " failed: ");
	sb_puts(&s, rt_strerror(err < 0 ? -err : err));
	sb_putc(&s, '\n');
	sb_flush(&s, 2);
	return 1;
}

static RT_UNUSED void kb_report(const char *name, uint64_t ns, uint32_t rounds)
{
	SB_DECL(s, 128);

	sb_puts(&s, name);
	sb_puts(&s, ": ns=");
	sb_u64(&s, ns);
	sb_puts(&s, " iters=");
	sb_u64(&s, rounds);
	sb_puts(&s, " per_iter_ns=");
	sb_u64(&s, ns / rounds);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

#endif /* GUEST_KBENCH_H */
