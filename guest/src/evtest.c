/* /bin/evtest - prints input events, for tests and for people poking at virtio-input.
 *
 *   evtest [COUNT] [DEVICE...]   (default: every /dev/input/eventN, until killed)
 *
 * Opens the devices, prints one line per device
 *   evtest: /dev/input/event0 name="VirtIO Keyboard" bus=6 vendor=0 product=1
 * then `evtest: ready devices=N`, then one line per event (EV_SYN included):
 *   input: type=1 code=30 value=1
 * and stops after COUNT events that are not EV_SYN.
 */
#include "rt.h"
#include <linux/ioctl.h>

/* From linux/input.h, which needs a libc's sys/time.h: the two ioctls and the one type used. */
struct input_id {
	uint16_t bustype, vendor, product, version;
};
#define EVIOCGID _IOR('E', 0x02, struct input_id)
#define EVIOCGNAME(len) _IOC(_IOC_READ, 'E', 0x06, len)
#define EV_SYN 0

#define MAX_DEVICES 8
#ifndef __NR_ppoll_time64
#define __NR_ppoll_time64 __NR_ppoll /* 64-bit hosts (the tests' host build) */
#endif

/* struct input_event as rv32 (time64) and 64-bit kernels lay it out: two longs of time. */
struct ev {
	unsigned long sec, usec;
	uint16_t type, code;
	int32_t value;
};

struct rt_pollfd {
	int fd;
	short events, revents;
};

static void describe(int fd, const char *path)
{
	SB_DECL(s, 256);
	char name[80];
	struct input_id id;
	int n;

	memset(name, 0, sizeof(name));
	memset(&id, 0, sizeof(id));
	n = ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name);
	ioctl(fd, EVIOCGID, &id);
	sb_puts(&s, "evtest: ");
	sb_puts(&s, path);
	sb_puts(&s, " name=\"");
	sb_puts(&s, n > 0 ? name : "?");
	sb_puts(&s, "\" bus=");
	sb_u64(&s, id.bustype);
	sb_puts(&s, " vendor=");
	sb_u64(&s, id.vendor);
	sb_puts(&s, " product=");
	sb_u64(&s, id.product);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

static int open_dev(const char *path, struct rt_pollfd *p)
{
	int fd = open(path, O_RDONLY, 0);

	if (fd < 0)
		return -1;
	describe(fd, path);
	p->fd = fd;
	p->events = 1; /* POLLIN */
	p->revents = 0;
	return 0;
}

static void print_event(const struct ev *e)
{
	SB_DECL(s, 96);

	sb_puts(&s, "input: type=");
	sb_u64(&s, e->type);
	sb_puts(&s, " code=");
	sb_u64(&s, e->code);
	sb_puts(&s, " value=");
	sb_i64(&s, e->value);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

int main(int argc, char **argv)
{
	struct rt_pollfd fds[MAX_DEVICES];
	uint32_t count = 0, seen = 0;
	int n = 0, i, first = 1;
	SB_DECL(s, 64);

	if (argc > 1 && rt_parse_u32(argv[1], &count) == 0)
		first = 2;
	for (i = first; i < argc && n < MAX_DEVICES; i++)
		if (open_dev(argv[i], &fds[n]) == 0)
			n++;
	if (first >= argc) {
		char path[32];

		for (i = 0; i < 32 && n < MAX_DEVICES; i++) {
			strcpy(path, "/dev/input/event");
			if (i >= 10)
				path[16] = (char)('0' + i / 10), path[17] = (char)('0' + i % 10), path[18] = 0;
			else
				path[16] = (char)('0' + i), path[17] = 0;
			if (open_dev(path, &fds[n]) == 0)
				n++;
		}
	}
	if (n == 0) {
		rt_puts(1, "evtest: error no input device: no such device\n");
		return 1;
	}
	sb_puts(&s, "evtest: ready devices=");
	sb_u64(&s, (uint64_t)n);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	for (;;) {
		int r = my_syscall5(__NR_ppoll_time64, fds, n, 0, 0, 0);

		if (r < 0 && r != -EINTR) {
			errno = -r;
			rt_puts(1, "evtest: error ppoll: ");
			rt_puts(1, rt_strerror(errno));
			rt_puts(1, "\n");
			return 1;
		}
		for (i = 0; i < n; i++) {
			struct ev e[16];
			ssize_t got;
			int k;

			if (!(fds[i].revents & 1))
				continue;
			got = read(fds[i].fd, e, sizeof(e));
			for (k = 0; got > 0 && k < (int)(got / (ssize_t)sizeof(struct ev)); k++) {
				print_event(&e[k]);
				if (e[k].type != EV_SYN && count && ++seen >= count)
					return 0;
			}
		}
	}
}
