/* kbench.h - what the kernel-heavy benchmarks share (forkbench, pfbench, pipebench, sysbench).
 *
 * Each program runs one kernel path N times (argv[1], else its default), times the loop with
 * the guest's own monotonic clock and prints one line
 *   NAME: ns=<monotonic ns> iters=<N> per_iter_ns=<ns> insns=<instructions retired>
 * which `npm run bench -- vs-semu` reads on both emulators. insns (RISC-V only: the host build
 * of the tests has no instret) is the hart's instret over the loop, kernel work included, so
 * two emulators can be compared on the guest's work as well as its time. Errors go to stderr,
 * exit 1.
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

/* Where a timed loop starts: the monotonic clock and the instructions retired so far. */
struct kb_mark {
	uint64_t ns, insns;
};

static RT_UNUSED void kb_start(struct kb_mark *m)
{
#ifdef RT_HAVE_COUNTERS
	m->insns = rt_read_instret();
#else
	m->insns = 0;
#endif
	m->ns = rt_now_ns();
}

/* Monotonic ns since `m`. */
static RT_UNUSED uint64_t kb_elapsed_ns(const struct kb_mark *m)
{
	return rt_now_ns() - m->ns;
}

/* Appends " insns=<instructions retired since m>" where the counter can be read. */
static RT_UNUSED void kb_put_insns(struct sb *s, const struct kb_mark *m)
{
#ifdef RT_HAVE_COUNTERS
	sb_puts(s, " insns=");
	sb_u64(s, rt_read_instret() - m->insns);
#else
	(void)s;
	(void)m;
#endif
}

static RT_UNUSED void kb_report(const char *name, const struct kb_mark *m, uint32_t rounds)
{
	uint64_t ns = kb_elapsed_ns(m);
	SB_DECL(s, 160);

	sb_puts(&s, name);
	sb_puts(&s, ": ns=");
	sb_u64(&s, ns);
	sb_puts(&s, " iters=");
	sb_u64(&s, rounds);
	sb_puts(&s, " per_iter_ns=");
	sb_u64(&s, ns / rounds);
	kb_put_insns(&s, m);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

#endif /* GUEST_KBENCH_H */
