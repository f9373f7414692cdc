/* /init for the vscode-semu guest.
 *
 * Mounts the pseudo filesystems and, when the machine shares a host folder (virtio-fs tag "myfs",
 * semu's -s DIR), that folder on /mnt; prints the ready marker the emulator and its tests wait for,
 * optionally runs one command given on the kernel command line (guest_cmd="..."), then keeps an
 * interactive /bin/sh on the console, respawning it when it exits. As pid 1 it also reaps
 * orphans.
 */
#include "rt.h"

#define READY_MARKER "semu-guest: ready\n"

static void mount_fs(const char *src, const char *dir, const char *type, const char *data)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		printf("init: mkdir %s: %s\n", dir, rt_strerror(errno));
	if (mount(src, dir, type, 0, data) < 0 && errno != EBUSY)
		printf("init: mount %s on %s: %s\n", type, dir, rt_strerror(errno));
}

#define SHARE_TAG "myfs"
#define VIRTIO_FS_SYSFS "/sys/fs/virtiofs"

/* True when a virtio-fs device with `tag` exists: /sys/fs/virtiofs/<index>/tag reads "TAG\n".
 * Looked up first, so a machine without the device gets no "tag not found" from the kernel. */
static int have_virtio_fs(const char *tag)
{
	char buf[512], path[96], seen[48];
	int dir, n, found = 0;

	dir = open(VIRTIO_FS_SYSFS, O_RDONLY | O_DIRECTORY, 0);
	if (dir < 0)
		return 0;
	while (!found && (n = getdents64(dir, (struct linux_dirent64 *)buf, sizeof(buf))) > 0) {
		int off = 0;

		while (off < n && !found) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			int fd, len;

			off += d->d_reclen;
			if (d->d_name[0] == '.')
				continue;
			path[0] = 0;
			strlcat(path, VIRTIO_FS_SYSFS "/", sizeof(path));
			strlcat(path, d->d_name, sizeof(path));
			strlcat(path, "/tag", sizeof(path));
			fd = open(path, O_RDONLY, 0);
			if (fd < 0)
				continue;
			len = read(fd, seen, sizeof(seen) - 1);
			close(fd);
			if (len > 0 && seen[len - 1] == '\n')
				len--;
			seen[len > 0 ? len : 0] = 0;
			found = !strcmp(seen, tag);
		}
	}
	close(dir);
	return found;
}

/* /dev/console can never become a controlling tty, so ^C would reach nobody: open the device
 * behind it instead (the last name in /sys/class/tty/console/active, e.g. ttyS0). */
static int open_console(void)
{
	char path[48] = "/dev/";
	char name[32];
	ssize_t n;
	int fd, i, start = 0;

	fd = open("/sys/class/tty/console/active", O_RDONLY, 0);
	if (fd >= 0) {
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n > 0) {
			while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == ' '))
				n--;
			name[n] = 0;
			for (i = 0; i < n; i++)
				if (name[i] == ' ')
					start = i + 1;
			if (name[start]) {
				strlcat(path, name + start, sizeof(path));
				fd = open(path, O_RDWR, 0);
				if (fd >= 0)
					return fd;
			}
		}
	}
	return open("/dev/console", O_RDWR, 0);
}

/* Starts /bin/sh with argv in a new session whose controlling tty is the console. */
static int spawn(char *const argv[], char **envp)
{
	int pid = fork();
	int fd;

	if (pid != 0)
		return pid; /* parent, or -1 */
	setsid();
	fd = open_console();
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		ioctl(0, TIOCSCTTY, 0);
	}
	execve("/bin/sh", argv, envp);
	printf("init: exec /bin/sh: %s\n", rt_strerror(errno));
	exit(127);
	return -1;
}

/* Waits until `pid` exits, reaping any orphan on the way. */
static void wait_for(int pid)
{
	int status, r;

	do {
		r = rt_waitpid(-1, &status, 0);
	} while (r != pid && r != -ECHILD);
}

int main(int argc, char **argv, char **envp)
{
	char *const shell_argv[] = { "sh", 0 };
	const char *cmd = getenv("guest_cmd");

	mount_fs("devtmpfs", "/dev", "devtmpfs", 0);
	mount_fs("proc", "/proc", "proc", 0);
	mount_fs("sysfs", "/sys", "sysfs", 0);
	mount_fs("tmpfs", "/tmp", "tmpfs", "mode=1777");
	if (have_virtio_fs(SHARE_TAG))
		mount_fs(SHARE_TAG, "/mnt", "virtiofs", 0);

	rt_puts(1, READY_MARKER);

	if (cmd && *cmd) {
		char *const cmd_argv[] = { "sh", "-c", (char *)cmd, 0 };
		int pid = spawn(cmd_argv, envp);

		if (pid > 0)
			wait_for(pid);
	}
	for (;;) {
		uint64_t t0 = rt_now_ns();
		int pid = spawn(shell_argv, envp);

		if (pid < 0)
			printf("init: fork: %s\n", rt_strerror(errno));
		else
			wait_for(pid);
		/* a shell that dies at once (broken binary, console gone) must not spin the CPU */
		if (rt_now_ns() - t0 < 1000000000ull)
			rt_sleep_ns(1000000000ull);
	}
	return 0;
}
