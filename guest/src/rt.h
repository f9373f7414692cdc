/* rt.h - what the guest programs need on top of nolibc for rv32.
 *
 * rv32 Linux has only the time64 system calls: no wait4, gettimeofday, select, ppoll or
 * nanosleep, so nolibc's waitpid(), sleep() and poll() fail there with ENOSYS. This header
 * wraps waitid, clock_gettime64 and clock_nanosleep_time64 instead, and adds a small
 * string builder (nolibc's printf has no field widths) and number parsing.
 * Every program is one translation unit plus rt_div.c (64-bit division) and, for pcm, dsp.c.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include "nolibc.h"
#include <linux/reboot.h>

#define RT_UNUSED __attribute__((unused))

/* The tests also build these programs for the (64-bit) host, where the time64 calls have
 * their plain names. */
#ifndef __NR_clock_gettime64
#define __NR_clock_gettime64 __NR_clock_gettime
#endif
#ifndef __NR_clock_nanosleep_time64
#define __NR_clock_nanosleep_time64 __NR_clock_nanosleep
#endif
#define RT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- time (time64 syscalls only) ---- */

struct rt_ts64 {
	int64_t sec;
	int64_t nsec;
};

#define RT_CLOCK_MONOTONIC 1

static RT_UNUSED uint64_t rt_now_ns(void)
{
	struct rt_ts64 t = { 0, 0 };

	my_syscall2(__NR_clock_gettime64, RT_CLOCK_MONOTONIC, &t);
	return (uint64_t)t.sec * 1000000000ull + (uint64_t)t.nsec;
}

/* Sleeps ns nanoseconds; returns 0, or -EINTR when a signal handler ran. */
static RT_UNUSED int rt_sleep_ns(uint64_t ns)
{
	struct rt_ts64 t;

	t.sec = (int64_t)(ns / 1000000000ull);
	t.nsec = (int64_t)(ns % 1000000000ull);
	return my_syscall4(__NR_clock_nanosleep_time64, RT_CLOCK_MONOTONIC, 0, &t, 0);
}

/* ---- base counters (Zicntr), readable from user space when scounteren allows ---- */

#ifdef __riscv
/* rt_read_time/cycle/instret: a 64-bit counter from its two halves, re-read until the high
 * half is stable (RV32). */
#define RT_READ64(lo, hi)                                                                 \
	static RT_UNUSED uint64_t rt_read_##lo(void)                                      \
	{                                                                                 \
		uint32_t h0, l, h1;                                                       \
		do {                                                                      \
			__asm__ volatile("rd" #hi " %0" : "=r"(h0));                      \
			__asm__ volatile("rd" #lo " %0" : "=r"(l));                       \
			__asm__ volatile("rd" #hi " %0" : "=r"(h1));                      \
		} while (h0 != h1);                                                       \
		return ((uint64_t)h1 << 32) | l;                                          \
	}
RT_READ64(time, timeh)
RT_READ64(cycle, cycleh)
RT_READ64(instret, instreth)
#undef RT_READ64
#define RT_HAVE_COUNTERS 1
#endif

/* ---- processes ---- */

/* The siginfo layout of the generic ABI: what waitid fills for SIGCHLD. */
struct rt_siginfo {
	int si_signo;
	int si_errno;
	int si_code;
#if __SIZEOF_LONG__ == 8
	int pad0; /* the union is 8-byte aligned on 64-bit hosts */
#endif
	int si_pid;
	unsigned int si_uid;
	int si_status;
	int pad[26];
};

#define RT_P_ALL 0
#define RT_P_PID 1
#define RT_WNOHANG 1
#define RT_WEXITED 4
#define RT_CLD_EXITED 1
#define RT_CLD_KILLED 2
#define RT_CLD_DUMPED 3

/* waitpid() on waitid: pid > 0 waits for that child, pid == -1 for any. Returns the pid reaped,
 * 0 with nohang and nothing ready, or -errno. *status is encoded as wait4 would (WIFEXITED...). */
static RT_UNUSED int rt_waitpid(int pid, int *status, int nohang)
{
	struct rt_siginfo si;
	int r;

	memset(&si, 0, sizeof(si));
	r = my_syscall5(__NR_waitid, pid > 0 ? RT_P_PID : RT_P_ALL, pid > 0 ? pid : 0, &si,
			RT_WEXITED | (nohang ? RT_WNOHANG : 0), 0);
	if (r < 0)
		return r;
	if (si.si_pid == 0)
		return 0;
	if (si.si_code == RT_CLD_EXITED)
		*status = (si.si_status & 0xff) << 8;
	else
		*status = (si.si_status & 0x7f) | (si.si_code == RT_CLD_DUMPED ? 0x80 : 0);
	return si.si_pid;
}

/* The kernel's struct sigaction. riscv needs no sa_restorer (the vDSO returns from handlers);
 * x86-64, for the tests' host build, does. */
struct rt_sigaction_k {
	void (*handler)(int);
	unsigned long flags;
#ifdef __x86_64__
	void (*restorer)(void);
#endif
	uint32_t mask[2];
};

#ifdef __x86_64__
void rt_sigreturn_trampoline(void);
__asm__(".text\n.weak rt_sigreturn_trampoline\nrt_sigreturn_trampoline:\n"
	"\tmov $15, %rax\n\tsyscall\n"); /* rt_sigreturn */
#endif

static RT_UNUSED int rt_signal(int sig, void (*handler)(int))
{
	struct rt_sigaction_k act;

	memset(&act, 0, sizeof(act));
	act.handler = handler;
#ifdef __x86_64__
	act.flags = 0x04000000; /* SA_RESTORER */
	act.restorer = rt_sigreturn_trampoline;
#endif
	return my_syscall4(__NR_rt_sigaction, sig, &act, 0, sizeof(act.mask));
}

/* ---- errors ---- */

static RT_UNUSED const char *rt_strerror(int e)
{
	switch (e) {
	case EPERM: return "operation not permitted";
	case ENOENT: return "no such file or directory";
	case EINTR: return "interrupted";
	case EIO: return "I/O error";
	case ENXIO: return "no such device or address";
	case E2BIG: return "argument list too long";
	case ENOEXEC: return "exec format error";
	case EBADF: return "bad file descriptor";
	case ECHILD: return "no child processes";
	case EAGAIN: return "resource temporarily unavailable";
	case ENOMEM: return "out of memory";
	case EACCES: return "permission denied";
	case EFAULT: return "bad address";
	case EBUSY: return "device or resource busy";
	case EEXIST: return "file exists";
	case ENODEV: return "no such device";
	case ENOTDIR: return "not a directory";
	case EISDIR: return "is a directory";
	case EINVAL: return "invalid argument";
	case ENOTTY: return "inappropriate ioctl for device";
	case ENOSPC: return "no space left on device";
	case EPIPE: return "broken pipe (xrun)";
	case ENOSYS: return "function not implemented";
	case ESTRPIPE: return "streams pipe error (suspended)";
	case EBADFD: return "file descriptor in bad state";
	case ETIMEDOUT: return "timed out";
	case ECONNREFUSED: return "connection refused";
	case ECONNRESET: return "connection reset";
	case ENETUNREACH: return "network unreachable";
	case EHOSTUNREACH: return "no route to host";
	case EADDRINUSE: return "address in use";
	case EXDEV: return "cross-device link";
	case ENFILE: return "too many open files in system";
	case EMLINK: return "too many links";
	case EROFS: return "read-only file system";
	case ENAMETOOLONG: return "file name too long";
	case ENOTEMPTY: return "directory not empty";
	case ELOOP: return "too many levels of symbolic links";
	case EOPNOTSUPP: return "operation not supported";
	case ESTALE: return "stale file handle";
	default: return "unknown error";
	}
}

/* ---- string builder: format into a fixed buffer, then write it in one go ---- */

struct sb {
	char *buf;
	unsigned int len;
	unsigned int cap;
};

#define SB_DECL(name, size) \
	char name##_mem[size]; \
	struct sb name = { name##_mem, 0, size }

static RT_UNUSED void sb_putc(struct sb *s, char c)
{
	if (s->len < s->cap)
		s->buf[s->len++] = c;
}

static RT_UNUSED void sb_puts(struct sb *s, const char *str)
{
	while (*str)
		sb_putc(s, *str++);
}

static RT_UNUSED void sb_putn(struct sb *s, const char *str, unsigned int n)
{
	while (n-- && *str)
		sb_putc(s, *str++);
}

static RT_UNUSED void sb_u64(struct sb *s, uint64_t v)
{
	char tmp[21];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		sb_putc(s, tmp[--n]);
}

static RT_UNUSED void sb_i64(struct sb *s, int64_t v)
{
	if (v < 0) {
		sb_putc(s, '-');
		sb_u64(s, (uint64_t)0 - (uint64_t)v);
	} else {
		sb_u64(s, (uint64_t)v);
	}
}

/* Right-aligns v in width columns (for tables). */
static RT_UNUSED void sb_u64w(struct sb *s, uint64_t v, unsigned int width)
{
	unsigned int digits = 1;
	uint64_t t = v;

	while (t >= 10) {
		t /= 10;
		digits++;
	}
	while (width-- > digits)
		sb_putc(s, ' ');
	sb_u64(s, v);
}

static RT_UNUSED void sb_hex(struct sb *s, uint32_t v, unsigned int digits)
{
	while (digits--)
		sb_putc(s, "0123456789abcdef"[(v >> (4 * digits)) & 15]);
}

/* Prints v / 10^decimals with exactly `decimals` digits after the point. */
static RT_UNUSED void sb_fix(struct sb *s, int64_t v, unsigned int decimals)
{
	uint64_t scale = 1, mag;
	unsigned int i;

	for (i = 0; i < decimals; i++)
		scale *= 10;
	if (v < 0)
		sb_putc(s, '-');
	mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	sb_u64(s, mag / scale);
	if (decimals) {
		uint64_t frac = mag % scale;

		sb_putc(s, '.');
		while (decimals--) {
			scale /= 10;
			sb_putc(s, (char)('0' + (frac / scale) % 10));
		}
	}
}

static RT_UNUSED void sb_flush(struct sb *s, int fd)
{
	unsigned int off = 0;

	while (off < s->len) {
		ssize_t n = write(fd, s->buf + off, s->len - off);

		if (n <= 0)
			break;
		off += (unsigned int)n;
	}
	s->len = 0;
}

static RT_UNUSED void rt_puts(int fd, const char *str)
{
	write(fd, str, strlen(str));
}

/* Writes "HEADWHAT[ ARG]: <strerror(err)>\n" to fd in one write; returns 1 (an exit status). */
static RT_UNUSED int rt_report(int fd, const char *head, const char *what, const char *arg, int err)
{
	SB_DECL(s, 640);

	sb_puts(&s, head);
	sb_puts(&s, what);
	if (arg) {
		sb_putc(&s, ' ');
		sb_puts(&s, arg);
	}
	sb_puts(&s, ": ");
	sb_puts(&s, rt_strerror(err));
	sb_putc(&s, '\n');
	sb_flush(&s, fd);
	return 1;
}

/* ---- parsing ---- */

/* Parses a decimal like "440", "0.5" or "1.25" into v * 10^decimals (extra digits are
 * truncated). Returns 0, or -1 on anything else (sign, garbage, overflow past 2^63). */
static RT_UNUSED int rt_parse_fixed(const char *str, unsigned int decimals, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int frac = 0, seen = 0, dot = 0;

	for (; *str; str++) {
		if (*str == '.' && !dot) {
			dot = 1;
			continue;
		}
		if (*str < '0' || *str > '9')
			return -1;
		seen = 1;
		if (dot) {
			if (frac >= decimals)
				continue;
			frac++;
		}
		if (v > 922337203685477579ull)
			return -1;
		v = v * 10 + (uint64_t)(*str - '0');
	}
	if (!seen)
		return -1;
	for (; frac < decimals; frac++) {
		if (v > 922337203685477579ull)
			return -1;
		v *= 10;
	}
	*out = v;
	return 0;
}

static RT_UNUSED int rt_parse_u32(const char *str, uint32_t *out)
{
	uint64_t v;

	if (strchr(str, '.') || rt_parse_fixed(str, 0, &v) < 0 || v > 0xffffffffu)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

#endif /* GUEST_RT_H */
