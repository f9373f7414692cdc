/* fsbench [-k] DIR [MIB] - file system throughput in the guest.
 *
 * Writes MIB MiB (default 16) to DIR/fsbench.dat in 128 KiB writes and fsyncs it, drops the page
 * cache (so the read comes from the device, not from memory; -k keeps it, e.g. when run on a
 * host whose cache is not ours to drop), reads it back, then creates, stats and unlinks 1000
 * empty files in DIR. One line, machine-readable:
 *
 *   fsbench: dir=/mnt mib=16 write_kBps=12345 read_kBps=23456 files_per_s=789
 *
 * Rates are whole kB/s (1000 bytes) and files per second, measured with CLOCK_MONOTONIC. Exit 1
 * with "fsbench: error WHAT: REASON" when something fails, 2 on a usage error.
 */
#include "rt.h"

#define CHUNK (128 * 1024)
#define FILES 1000

static char buf[CHUNK];

static int fail(const char *what, const char *path)
{
	return rt_report(2, "fsbench: error ", what, path, errno);
}

static uint64_t rate(uint64_t units, uint64_t ns)
{
	return ns ? units * 1000000000ull / ns : 0;
}

/* Drops clean page-cache pages (root only; without it the read is from memory, said on stderr). */
static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY, 0);

	if (fd < 0 || write(fd, "3\n", 2) != 2)
		rt_puts(2, "fsbench: could not drop the page cache: the read may come from memory\n");
	if (fd >= 0)
		close(fd);
}

static int write_file(const char *path, uint64_t bytes)
{
	uint64_t done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return fail("create", path);
	while (done < bytes) {
		ssize_t n = write(fd, buf, CHUNK);

		if (n <= 0) {
			close(fd);
			return fail("write", path);
		}
		done += (uint64_t)n;
	}
	if (fsync(fd) < 0) {
		close(fd);
		return fail("fsync", path);
	}
	return close(fd) < 0 ? fail("close", path) : 0;
}

static int read_file(const char *path, uint64_t bytes)
{
	uint64_t done = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY, 0);

	if (fd < 0)
		return fail("open", path);
	while ((n = read(fd, buf, CHUNK)) > 0)
		done += (uint64_t)n;
	close(fd);
	if (n < 0)
		return fail("read", path);
	if (done != bytes) {
		errno = EIO;
		return fail("short read of", path);
	}
	return 0;
}

static int small_files(const char *dir)
{
	char path[300];
	unsigned int i;

	for (i = 0; i < FILES; i++) {
		SB_DECL(s, 300);
		struct stat st;
		int fd;

		sb_puts(&s, dir);
		sb_puts(&s, "/fsbench.");
		sb_u64(&s, i);
		sb_putc(&s, 0);
		memcpy(path, s.buf, s.len);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return fail("create", path);
		close(fd);
		if (stat(path, &st) < 0)
			return fail("stat", path);
		if (unlink(path) < 0)
			return fail("unlink", path);
	}
	return 0;
}

int main(int argc, char **argv)
{
	SB_DECL(out, 256);
	char path[300];
	uint32_t mib = 16;
	uint64_t bytes, t0, t_write, t_read, t_files;
	unsigned int i;
	int keep = argc > 1 && !strcmp(argv[1], "-k");

	argc -= keep;
	argv += keep;
	if (argc < 2 || argc > 3 || (argc == 3 && (rt_parse_u32(argv[2], &mib) < 0 || mib == 0 || mib > 1024)) ||
	    strlen(argv[1]) > 200) {
		rt_puts(2, "usage: fsbench [-k] DIR [MIB]   (MIB 1..1024, default 16; -k keeps the page cache)\n");
		return 2;
	}
	for (i = 0; i < CHUNK; i++)
		buf[i] = (char)(i * 7 + 1);
	bytes = (uint64_t)mib << 20;
	path[0] = 0;
	strlcat(path, argv[1], sizeof(path));
	strlcat(path, "/fsbench.dat", sizeof(path));

	t0 = rt_now_ns();
	if (write_file(path, bytes))
		return 1;
	t_write = rt_now_ns() - t0;
	if (!keep)
		drop_caches();
	t0 = rt_now_ns();
	if (read_file(path, bytes))
		return 1;
	t_read = rt_now_ns() - t0;
	unlink(path);
	t0 = rt_now_ns();
	if (small_files(argv[1]))
		return 1;
	t_files = rt_now_ns() - t0;

	sb_puts(&out, "fsbench: dir=");
	sb_puts(&out, argv[1]);
	sb_puts(&out, " mib=");
	sb_u64(&out, mib);
	sb_puts(&out, " write_kBps=");
	sb_u64(&out, rate(bytes, t_write) / 1000);
	sb_puts(&out, " read_kBps=");
	sb_u64(&out, rate(bytes, t_read) / 1000);
	sb_puts(&out, " files_per_s=");
	sb_u64(&out, rate(FILES, t_files));
	sb_putc(&out, '\n');
	sb_flush(&out, 1);
	return 0;
}
