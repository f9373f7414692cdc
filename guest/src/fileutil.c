/* File commands of the guest shell: cp, mv, rm, mkdir, rmdir, touch, ln, stat, chmod, sync.
 *
 * Built into /bin/sh (they run in the shell process, so a redirection applies to them as to any
 * builtin). Each prints "NAME: PATH: reason" on failure and returns 1 (2 for a usage error).
 * rv32 has only the *at and time64 system calls: rename is renameat2, touch utimensat_time64,
 * lstat statx(AT_SYMLINK_NOFOLLOW).
 */
#include "rt.h"
#include "fileutil.h"

#ifndef __NR_utimensat_time64
#define __NR_utimensat_time64 __NR_utimensat /* the tests' 64-bit host build */
#endif

#define PATH_LEN 512

static char copy_buf[65536];

/* "cmd: path: reason" on stderr; returns 1. */
static int fail(const char *cmd, const char *path)
{
	SB_DECL(c, 64);

	sb_puts(&c, cmd);
	sb_putc(&c, ':');
	sb_putc(&c, 0);
	return rt_report(2, "", c.buf, path, errno);
}

static int usage(const char *text)
{
	rt_puts(2, "usage: ");
	rt_puts(2, text);
	rt_puts(2, "\n");
	return 2;
}

static int lstat_x(const char *path, struct statx *st)
{
	return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, st);
}

static int is_dir(const char *path)
{
	struct statx st;

	return statx(AT_FDCWD, path, 0, STATX_TYPE, &st) == 0 && S_ISDIR(st.stx_mode);
}

/* The last component of path (trailing slashes ignored), copied into out. */
static void base_name(const char *path, char *out, unsigned int cap)
{
	unsigned int end = strlen(path), start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (end - start >= cap)
		end = start + cap - 1;
	memcpy(out, path + start, end - start);
	out[end - start] = 0;
}

/* dir + "/" + name into out; -1 (ENAMETOOLONG) when it does not fit. */
static int join(char *out, const char *dir, const char *name)
{
	out[0] = 0;
	if (strlcat(out, dir, PATH_LEN) >= PATH_LEN || strlcat(out, "/", PATH_LEN) >= PATH_LEN ||
	    strlcat(out, name, PATH_LEN) >= PATH_LEN) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Where src goes when the destination is `dst`: into it when it is a directory. */
static int target_path(char *out, const char *src, const char *dst)
{
	char base[256];

	if (!is_dir(dst)) {
		if (strlcpy(out, dst, PATH_LEN) >= PATH_LEN) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	base_name(src, base, sizeof(base));
	return join(out, dst, base);
}

static int write_all(int fd, const char *buf, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, (size_t)n);

		if (w <= 0)
			return -1;
		buf += w;
		n -= w;
	}
	return 0;
}

/* Copies the contents and permission bits of a regular file. */
static int copy_file(const char *cmd, const char *src, const char *dst)
{
	struct statx st;
	int in, out, rc = 0;
	ssize_t n;

	if (statx(AT_FDCWD, src, 0, STATX_BASIC_STATS, &st) < 0)
		return fail(cmd, src);
	if (S_ISDIR(st.stx_mode)) {
		errno = EISDIR;
		return fail(cmd, src);
	}
	in = open(src, O_RDONLY, 0);
	if (in < 0)
		return fail(cmd, src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, st.stx_mode & 07777);
	if (out < 0) {
		close(in);
		return fail(cmd, dst);
	}
	while ((n = read(in, copy_buf, sizeof(copy_buf))) > 0) {
		if (write_all(out, copy_buf, n) < 0) {
			rc = fail(cmd, dst);
			break;
		}
	}
	if (n < 0)
		rc = fail(cmd, src);
	close(in);
	if (close(out) < 0 && !rc)
		rc = fail(cmd, dst);
	return rc;
}

int b_cp(int argc, char **argv)
{
	char to[PATH_LEN];
	int i, rc = 0;

	if (argc < 3)
		return usage("cp SRC DST | cp SRC... DIR");
	if (argc > 3 && !is_dir(argv[argc - 1])) {
		errno = ENOTDIR;
		return fail("cp", argv[argc - 1]);
	}
	for (i = 1; i < argc - 1; i++) {
		if (target_path(to, argv[i], argv[argc - 1]) < 0)
			rc |= fail("cp", argv[i]);
		else
			rc |= copy_file("cp", argv[i], to);
	}
	return rc;
}

static int rename_path(const char *from, const char *to)
{
	return __sysret(my_syscall5(__NR_renameat2, AT_FDCWD, from, AT_FDCWD, to, 0));
}

int b_mv(int argc, char **argv)
{
	char to[PATH_LEN];
	int i, rc = 0;

	if (argc < 3)
		return usage("mv SRC DST | mv SRC... DIR");
	for (i = 1; i < argc - 1; i++) {
		if (target_path(to, argv[i], argv[argc - 1]) < 0) {
			rc |= fail("mv", argv[i]);
			continue;
		}
		if (rename_path(argv[i], to) == 0)
			continue;
		if (errno != EXDEV) {
			rc |= fail("mv", argv[i]);
			continue;
		}
		/* another file system (e.g. /tmp to /mnt): copy, then remove */
		if (copy_file("mv", argv[i], to) == 0) {
			if (unlink(argv[i]) < 0)
				rc |= fail("mv", argv[i]);
		} else {
			rc = 1;
		}
	}
	return rc;
}

static int remove_path(const char *path, int recursive, int force);

static int remove_tree(const char *path, int force)
{
	char buf[1024], child[PATH_LEN];
	int fd, n, rc = 0, removed;

	fd = open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fail("rm", path);
	/* Removing entries under an open stream may make it skip some: read again from the start
	 * until a pass finds nothing but "." and "..". */
	do {
		removed = 0;
		lseek(fd, 0, SEEK_SET);
		while (!rc && (n = getdents64(fd, (struct linux_dirent64 *)buf, sizeof(buf))) > 0) {
			int off = 0;

			while (off < n && !rc) {
				struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);

				off += d->d_reclen;
				if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
					continue;
				if (join(child, path, d->d_name) < 0)
					rc = fail("rm", d->d_name);
				else
					rc = remove_path(child, 1, force);
				removed++;
			}
		}
	} while (!rc && removed);
	close(fd);
	if (rc)
		return rc;
	return rmdir(path) < 0 ? fail("rm", path) : 0;
}

static int remove_path(const char *path, int recursive, int force)
{
	struct statx st;

	if (lstat_x(path, &st) < 0)
		return force && errno == ENOENT ? 0 : fail("rm", path);
	if (S_ISDIR(st.stx_mode)) {
		if (!recursive) {
			errno = EISDIR;
			return fail("rm", path);
		}
		return remove_tree(path, force);
	}
	return unlink(path) < 0 ? fail("rm", path) : 0;
}

int b_rm(int argc, char **argv)
{
	int i = 1, recursive = 0, force = 0, rc = 0;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		recursive |= strchr(argv[i], 'r') != 0 || strchr(argv[i], 'R') != 0;
		force |= strchr(argv[i], 'f') != 0;
	}
	if (i == argc)
		return force ? 0 : usage("rm [-rf] FILE...");
	for (; i < argc; i++)
		rc |= remove_path(argv[i], recursive, force);
	return rc;
}

int b_mkdir(int argc, char **argv)
{
	int i = 1, parents = 0, rc = 0;

	if (i < argc && !strcmp(argv[i], "-p")) {
		parents = 1;
		i++;
	}
	if (i == argc)
		return usage("mkdir [-p] DIR...");
	for (; i < argc; i++) {
		char path[PATH_LEN];
		unsigned int k;

		if (!parents) {
			if (mkdir(argv[i], 0777) < 0)
				rc |= fail("mkdir", argv[i]);
			continue;
		}
		if (strlcpy(path, argv[i], sizeof(path)) >= sizeof(path)) {
			errno = ENAMETOOLONG;
			rc |= fail("mkdir", argv[i]);
			continue;
		}
		for (k = 1; ; k++) {
			char c = path[k];

			if (c != '/' && c != 0)
				continue;
			path[k] = 0;
			if (mkdir(path, 0777) < 0 && errno != EEXIST) {
				rc |= fail("mkdir", path);
				break;
			}
			path[k] = c;
			if (c == 0)
				break;
		}
	}
	return rc;
}

int b_rmdir(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2)
		return usage("rmdir DIR...");
	for (i = 1; i < argc; i++)
		if (rmdir(argv[i]) < 0)
			rc |= fail("rmdir", argv[i]);
	return rc;
}

int b_touch(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2)
		return usage("touch FILE...");
	for (i = 1; i < argc; i++) {
		int fd = open(argv[i], O_WRONLY | O_CREAT, 0666);

		if (fd < 0 && errno != EISDIR) {
			rc |= fail("touch", argv[i]);
			continue;
		}
		if (fd >= 0)
			close(fd);
		/* an existing file: its times become now */
		if (__sysret(my_syscall4(__NR_utimensat_time64, AT_FDCWD, argv[i], 0, 0)) < 0)
			rc |= fail("touch", argv[i]);
	}
	return rc;
}

int b_ln(int argc, char **argv)
{
	char to[PATH_LEN];
	int sym = argc > 1 && !strcmp(argv[1], "-s");
	const char *target, *name;

	if (argc != 3 + sym)
		return usage("ln [-s] TARGET LINK");
	target = argv[1 + sym];
	name = argv[2 + sym];
	if (target_path(to, target, name) < 0)
		return fail("ln", name);
	if ((sym ? symlink(target, to) : link(target, to)) < 0)
		return fail("ln", to);
	return 0;
}

static const char *type_name(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "regular";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symlink";
	case S_IFIFO: return "fifo";
	case S_IFCHR: return "char";
	case S_IFBLK: return "block";
	case S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

/* Nanoseconds as exactly nine digits. */
static void sb_nsec(struct sb *s, uint32_t ns)
{
	char d[9];
	int k;

	for (k = 8; k >= 0; k--, ns /= 10)
		d[k] = (char)('0' + ns % 10);
	sb_putn(s, d, 9);
}

/* stat FILE...: one line of key=value per file, links not followed:
 * "PATH type=regular size=5 mode=0644 links=1 ino=12 uid=0 gid=0 mtime=1700000000.000000001" */
int b_stat(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2)
		return usage("stat FILE...");
	for (i = 1; i < argc; i++) {
		SB_DECL(s, 1024);
		struct statx st;
		char target[256];

		if (lstat_x(argv[i], &st) < 0) {
			rc |= fail("stat", argv[i]);
			continue;
		}
		sb_puts(&s, argv[i]);
		sb_puts(&s, " type=");
		sb_puts(&s, type_name(st.stx_mode));
		sb_puts(&s, " size=");
		sb_u64(&s, st.stx_size);
		sb_puts(&s, " mode=");
		sb_putc(&s, (char)('0' + ((st.stx_mode >> 9) & 7)));
		sb_putc(&s, (char)('0' + ((st.stx_mode >> 6) & 7)));
		sb_putc(&s, (char)('0' + ((st.stx_mode >> 3) & 7)));
		sb_putc(&s, (char)('0' + (st.stx_mode & 7)));
		sb_puts(&s, " links=");
		sb_u64(&s, st.stx_nlink);
		sb_puts(&s, " ino=");
		sb_u64(&s, st.stx_ino);
		sb_puts(&s, " uid=");
		sb_u64(&s, st.stx_uid);
		sb_puts(&s, " gid=");
		sb_u64(&s, st.stx_gid);
		sb_puts(&s, " mtime=");
		sb_i64(&s, st.stx_mtime.tv_sec);
		sb_putc(&s, '.');
		sb_nsec(&s, st.stx_mtime.tv_nsec);
		if (S_ISLNK(st.stx_mode)) {
			int n = __sysret(my_syscall4(__NR_readlinkat, AT_FDCWD, argv[i], target, sizeof(target) - 1));

			if (n >= 0) {
				target[n] = 0;
				sb_puts(&s, " target=");
				sb_puts(&s, target);
			}
		}
		sb_putc(&s, '\n');
		sb_flush(&s, 1);
	}
	return rc;
}

int b_chmod(int argc, char **argv)
{
	unsigned int mode = 0;
	const char *p;
	int i, rc = 0;

	if (argc < 3)
		return usage("chmod OCTAL-MODE FILE...");
	for (p = argv[1]; *p; p++) {
		if (*p < '0' || *p > '7' || mode > 07777)
			return usage("chmod OCTAL-MODE FILE... (e.g. 755)");
		mode = mode * 8 + (unsigned int)(*p - '0');
	}
	if (mode > 07777)
		return usage("chmod OCTAL-MODE FILE... (at most 7777)");
	for (i = 2; i < argc; i++)
		if (chmod(argv[i], mode) < 0)
			rc |= fail("chmod", argv[i]);
	return rc;
}

int b_sync(int argc, char **argv)
{
	my_syscall0(__NR_sync);
	return 0;
}
