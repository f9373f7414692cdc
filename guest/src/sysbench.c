/* /bin/sysbench - system calls: getpid, read and write of /dev/null, N times each.
 *
 *   sysbench [ROUNDS]     (default 20000: 60000 system calls)
 *
 * The cheapest trips into the kernel and back: the trap entry and return paths, the syscall
 * table, a file lookup through the fd table.
 */
#include "kbench.h"

#define NAME "sysbench"

int main(int argc, char **argv)
{
	uint32_t rounds, r, sum = 0;
	struct kb_mark t0;
	char buf[16] = { 0 };
	int fd;

	if (kb_rounds(argc, argv, NAME, 20000, &rounds) < 0)
		return 2;
	fd = open("/dev/null", O_RDWR, 0);
	if (fd < 0)
		return kb_fail(NAME, "open /dev/null", errno);
	kb_start(&t0);
	for (r = 0; r < rounds; r++) {
		sum += (uint32_t)getpid();
		if (read(fd, buf, sizeof(buf)) != 0)
			return kb_fail(NAME, "read of /dev/null", EIO);
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return kb_fail(NAME, "write to /dev/null", EIO);
	}
	kb_report(NAME, &t0, rounds);
	close(fd);
	return sum == 0; /* getpid() is never 0 here: keeps the calls from being optimised out */
}
