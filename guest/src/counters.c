/* /bin/counters - reads the base counters from user space, as a program on a real RISC-V Linux
 * machine can (the firmware leaves scounteren = 7: CY, TM, IR).
 *
 *   counters [SPIN]     (default 200000 loop iterations between the two samples)
 *
 * Takes two samples of rdtime/rdtimeh, rdcycle/rdcycleh, rdinstret/rdinstreth and
 * clock_gettime(CLOCK_MONOTONIC), with a busy loop between them, and prints
 *   counters: time0=T time1=T cycle0=C cycle1=C instret0=I instret1=I mono0=NS mono1=NS
 * The time counter ticks at the device tree's timebase-frequency (65 MHz on semu's machine);
 * CLOCK_MONOTONIC is derived from the same counter by the kernel, so the two intervals agree
 * to within a tick or two. An emulator that forbids these reads in U-mode kills it with SIGILL.
 */
#include "rt.h"

struct sample {
	uint64_t time, cycle, instret, mono;
};

static void take(struct sample *s)
{
	s->mono = rt_now_ns();
	s->time = rt_read_time();
	s->cycle = rt_read_cycle();
	s->instret = rt_read_instret();
}

static void put(struct sb *s, const char *name, uint64_t v)
{
	sb_putc(s, ' ');
	sb_puts(s, name);
	sb_putc(s, '=');
	sb_u64(s, v);
}

int main(int argc, char **argv)
{
	uint32_t spin = 200000, i;
	volatile uint32_t sink = 0;
	struct sample a, b;
	SB_DECL(s, 256);

	if (argc > 2 || (argc == 2 && rt_parse_u32(argv[1], &spin) < 0)) {
		rt_puts(2, "usage: counters [SPIN]\n");
		return 2;
	}
	take(&a);
	for (i = 0; i < spin; i++)
		sink += i;
	take(&b);
	sb_puts(&s, "counters:");
	put(&s, "time0", a.time);
	put(&s, "time1", b.time);
	put(&s, "cycle0", a.cycle);
	put(&s, "cycle1", b.cycle);
	put(&s, "instret0", a.instret);
	put(&s, "instret1", b.instret);
	put(&s, "mono0", a.mono);
	put(&s, "mono1", b.mono);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}
