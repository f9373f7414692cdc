/* /bin/sh - the guest's small shell.
 *
 *   sh               interactive on the console (prompt "# ")
 *   sh -c "CMDS"     run CMDS and exit with the last status
 *   sh FILE          run the lines of FILE
 *
 * A line holds commands separated by ';'. Words split on blanks; "double" and 'single' quotes
 * group words, backslash escapes one character, '#' starts a comment. `> FILE` and `>> FILE`
 * send a command's output to FILE (truncated, or appended to). Builtins run in the shell; any
 * other NAME runs /bin/NAME (or NAME itself when it contains '/', e.g. /mnt/prog or ./prog)
 * via fork+execve.
 * A command ended by '&' runs in the background (no job control, as in a non-interactive POSIX
 * shell: stdin is /dev/null and ^C is ignored); it is reported when it ends, before a prompt.
 *
 * The console is a serial tty. Line editing is done here with the tty in non-canonical,
 * no-echo mode, so the same keys work whatever the terminal sends: Enter as \r, \n or \r\n,
 * Backspace as 0x7f or 0x08. ISIG stays on, so ^C interrupts the running program.
 * Input is read in chunks and echoed in batches: a pasted megabyte costs a few system calls
 * per line, not two per byte. (Like dash, the shell may so read ahead of the line it runs: a
 * program it starts does not see lines already typed after its own.)
 */
#include "rt.h"
#include "fileutil.h"
#include <asm/termbits.h>

#define LINE_MAX_LEN 512
#define MAX_WORDS 64

static int interactive;      /* stdin is a tty we put in raw mode */
static struct termios saved_tio;
static volatile int interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void err3(const char *a, const char *b, const char *c)
{
	SB_DECL(s, 256);

	sb_puts(&s, "sh: ");
	sb_puts(&s, a);
	sb_puts(&s, b);
	sb_puts(&s, c);
	sb_putc(&s, '\n');
	sb_flush(&s, 2);
}

static void err_errno(const char *what, const char *arg)
{
	rt_report(2, "sh: ", what, arg, errno);
}

/* ---- terminal ---- */

static void tty_raw(void)
{
	struct termios t = saved_tio;

	if (!interactive)
		return;
	t.c_lflag &= ~(ICANON | ECHO | ECHOE | ECHOK | ECHONL | IEXTEN);
	t.c_iflag &= ~(ICRNL | INLCR | IGNCR | IXON);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	ioctl(0, TCSETS, &t);
}

static void tty_restore(void)
{
	if (interactive)
		ioctl(0, TCSETS, &saved_tio);
}

/* ---- line editor ---- */

static int skip_lf; /* the last line ended with \r: a \n right after it is the same Enter */

static char in_buf[1024];
static int in_pos, in_len;
static char echo_buf[512];
static int echo_len;

static void echo_flush(void)
{
	if (echo_len > 0)
		write(1, echo_buf, (size_t)echo_len);
	echo_len = 0;
}

static void echo_char(char c)
{
	if (!interactive)
		return;
	if (echo_len == (int)sizeof(echo_buf))
		echo_flush();
	echo_buf[echo_len++] = c;
}

static void echo_str(const char *s)
{
	while (*s)
		echo_char(*s++);
}

/* The next input byte: 1, or what read() said (0 at end of input, -1 with errno). What has
 * been echoed so far is on the screen before the shell waits for more. */
static ssize_t next_char(char *c)
{
	if (in_pos == in_len) {
		ssize_t n;

		echo_flush();
		n = read(0, in_buf, sizeof(in_buf));
		if (n <= 0)
			return n;
		in_pos = 0;
		in_len = (int)n;
	}
	*c = in_buf[in_pos++];
	return 1;
}

static int read_line_echoed(char *buf, int cap);

/* Reads one line into buf. Returns its length, -1 at end of input, -2 when ^C cut it short. */
static int read_line(char *buf, int cap)
{
	int n = read_line_echoed(buf, cap);

	echo_flush();
	return n;
}

static int read_line_echoed(char *buf, int cap)
{
	int len = 0, esc = 0;
	char c;

	for (;;) {
		ssize_t n = next_char(&c);

		if (n < 0 && errno == EINTR) {
			interrupted = 0;
			echo_str("^C\n");
			return -2;
		}
		if (n <= 0)
			return len > 0 ? len : -1;
		if (c == '\n' && skip_lf) {
			skip_lf = 0;
			continue;
		}
		skip_lf = 0;
		if (esc) {
			/* swallow ESC [ ... final / ESC O x: arrows and function keys */
			if (esc == 1)
				esc = (c == '[' || c == 'O') ? 2 : 0;
			else if (c >= 0x40 && c <= 0x7e)
				esc = 0;
			continue;
		}
		switch (c) {
		case '\r':
		case '\n':
			skip_lf = c == '\r';
			echo_str("\n");
			buf[len] = 0;
			return len;
		case 0x7f:
		case 0x08:
			if (len > 0) {
				len--;
				echo_str("\b \b");
			}
			break;
		case 0x15: /* ^U: erase the line */
			while (len > 0) {
				len--;
				echo_str("\b \b");
			}
			break;
		case 0x03: /* ^C as a byte: input is not a tty with ISIG */
			echo_str("^C\n");
			return -2;
		case 0x04: /* ^D */
			if (len == 0)
				return -1;
			break;
		case 0x1b:
			esc = 1;
			break;
		case '\t':
			c = ' ';
			/* fall through */
		default:
			if ((unsigned char)c < 0x20 || len >= cap - 1)
				break;
			buf[len++] = c;
			echo_char(c);
		}
	}
}

/* ---- parsing ---- */

/* The words split_command puts where an unquoted > or >> was (compared by address). */
static char redir_out[] = ">";
static char redir_append[] = ">>";

/* Splits the next ';'- or '&'-ended command of *line in place into words. Returns the word
 * count; *line advances past the command (NULL at the end); *background is set when '&' ended
 * it. Quotes and backslashes are removed. */
static int split_command(char **line, char **words, int max, int *background)
{
	char *r = *line, *w = *line;
	int n = 0, in_word = 0;
	char quote = 0;

	for (;;) {
		char c = *r;

		if (c == 0 || (!quote && (c == ';' || c == '&'))) {
			*w = 0;
			*line = c ? r + 1 : 0;
			*background = c == '&';
			if (quote)
				err3("unterminated quote", "", "");
			break;
		}
		r++;
		if (quote) {
			if (c == quote) {
				quote = 0;
				continue;
			}
			if (c == '\\' && quote == '"' && (*r == '"' || *r == '\\'))
				c = *r++;
		} else if (c == ' ' || c == '\t') {
			if (in_word) {
				*w++ = 0;
				in_word = 0;
			}
			continue;
		} else if (c == '>') {
			if (in_word) {
				*w++ = 0;
				in_word = 0;
			}
			if (n < max - 1)
				words[n++] = *r == '>' ? redir_append : redir_out;
			if (*r == '>')
				r++;
			continue;
		} else if (c == '#' && !in_word) {
			while (*r && *r != ';' && *r != '&')
				r++;
			continue;
		} else if (c == '"' || c == '\'') {
			quote = c;
			if (!in_word && n < max - 1) {
				words[n++] = w;
				in_word = 1;
			}
			continue;
		} else if (c == '\\' && *r) {
			c = *r++;
		}
		if (!in_word) {
			if (n >= max - 1) {
				err3("too many words", "", "");
				break;
			}
			words[n++] = w;
			in_word = 1;
		}
		*w++ = c;
	}
	words[n] = 0;
	return n;
}

/* ---- builtins ---- */

static int cat_fd(int fd)
{
	char buf[1024];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

static int b_cat(int argc, char **argv)
{
	int i, rc = 0;

	if (argc == 1)
		return cat_fd(0) < 0 ? 1 : 0;
	for (i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY, 0);

		if (fd < 0 || cat_fd(fd) < 0) {
			err_errno("cat", argv[i]);
			rc = 1;
		}
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

static int b_echo(int argc, char **argv)
{
	SB_DECL(s, LINE_MAX_LEN + 2);
	int i = 1, newline = 1;

	if (argc > 1 && !strcmp(argv[1], "-n")) {
		newline = 0;
		i++;
	}
	for (; i < argc; i++) {
		sb_puts(&s, argv[i]);
		if (i + 1 < argc)
			sb_putc(&s, ' ');
	}
	if (newline)
		sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}

static void ls_entry(const char *dir, const char *name, int longfmt)
{
	SB_DECL(s, 512);
	char path[256];
	struct stat st;

	if (longfmt) {
		path[0] = 0;
		if (dir) {
			strlcpy(path, dir, sizeof(path));
			strlcat(path, "/", sizeof(path));
		}
		strlcat(path, name, sizeof(path));
		if (stat(path, &st) == 0) {
			const char *perm = "rwxrwxrwx";
			int i;

			sb_putc(&s, S_ISDIR(st.st_mode) ? 'd' : S_ISCHR(st.st_mode) ? 'c' :
				S_ISBLK(st.st_mode) ? 'b' : S_ISLNK(st.st_mode) ? 'l' :
				S_ISFIFO(st.st_mode) ? 'p' : S_ISSOCK(st.st_mode) ? 's' : '-');
			for (i = 0; i < 9; i++)
				sb_putc(&s, (st.st_mode & (0400u >> i)) ? perm[i] : '-');
			if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
				/* nolibc packs dev_t as minor[7:0] | major << 8 | minor[19:8] << 20
				 * (and its minor() macro does not compile) */
				sb_u64w(&s, (st.st_rdev >> 8) & 0xfff, 5);
				sb_puts(&s, ",");
				sb_u64w(&s, (st.st_rdev & 0xff) | ((st.st_rdev >> 12) & ~0xffu), 4);
			} else {
				sb_u64w(&s, (uint64_t)st.st_size, 10);
			}
			sb_putc(&s, ' ');
		} else {
			sb_puts(&s, "?????????? ");
		}
	}
	sb_puts(&s, name);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

static int ls_path(const char *path, int longfmt, int all)
{
	char buf[1024];
	struct stat st;
	int fd, n;

	if (stat(path, &st) < 0) {
		err_errno("ls", path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		ls_entry(0, path, longfmt);
		return 0;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		err_errno("ls", path);
		return 1;
	}
	while ((n = getdents64(fd, (struct linux_dirent64 *)buf, sizeof(buf))) > 0) {
		int off = 0;

		while (off < n) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);

			if (all || d->d_name[0] != '.')
				ls_entry(path, d->d_name, longfmt);
			off += d->d_reclen;
		}
	}
	close(fd);
	return n < 0 ? 1 : 0;
}

static int b_ls(int argc, char **argv)
{
	int i, longfmt = 0, all = 0, paths = 0, rc = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			longfmt |= strchr(argv[i], 'l') != 0;
			all |= strchr(argv[i], 'a') != 0;
		} else {
			paths++;
		}
	}
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		if (paths > 1)
			printf("%s:\n", argv[i]);
		rc |= ls_path(argv[i], longfmt, all);
	}
	if (!paths)
		rc = ls_path(".", longfmt, all);
	return rc;
}

static int b_mount(int argc, char **argv)
{
	const char *type = 0;
	int i, npos = 0;
	char *pos[2] = { 0, 0 };

	if (argc == 1) {
		char *cat_argv[] = { "cat", "/proc/mounts", 0 };

		return b_cat(2, cat_argv);
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			type = argv[++i];
		else if (npos < 2)
			pos[npos++] = argv[i];
	}
	if (npos != 2 || !type) {
		err3("usage: mount [-t TYPE SOURCE DIR]", "", "");
		return 2;
	}
	if (mount(pos[0], pos[1], type, 0, 0) < 0) {
		err_errno("mount", pos[1]);
		return 1;
	}
	return 0;
}

static int b_umount(int argc, char **argv)
{
	if (argc != 2) {
		err3("usage: umount DIR", "", "");
		return 2;
	}
	if (umount2(argv[1], 0) < 0) {
		err_errno("umount", argv[1]);
		return 1;
	}
	return 0;
}

#define SYSLOG_ACTION_READ_ALL 3
#define SYSLOG_ACTION_CLEAR 5
#define SYSLOG_ACTION_CONSOLE_LEVEL 8
#define SYSLOG_ACTION_SIZE_BUFFER 10

/* dmesg [-c] [-n LEVEL]: the kernel log via syslog(2), without the "<prio>" prefixes. */
static int b_dmesg(int argc, char **argv)
{
	int size, n, i, start = 1, clear = 0;
	char *buf;

	if (argc == 3 && !strcmp(argv[1], "-n")) {
		uint32_t lvl;

		if (rt_parse_u32(argv[2], &lvl) < 0 ||
		    my_syscall3(__NR_syslog, SYSLOG_ACTION_CONSOLE_LEVEL, 0, lvl) < 0) {
			err3("dmesg: bad console level ", argv[2], "");
			return 1;
		}
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "-c"))
		clear = 1;
	else if (argc != 1) {
		err3("usage: dmesg [-c] [-n LEVEL]", "", "");
		return 2;
	}
	size = my_syscall3(__NR_syslog, SYSLOG_ACTION_SIZE_BUFFER, 0, 0);
	if (size <= 0)
		size = 1 << 16;
	buf = malloc((size_t)size);
	if (!buf) {
		err3("dmesg: out of memory", "", "");
		return 1;
	}
	n = my_syscall3(__NR_syslog, SYSLOG_ACTION_READ_ALL, buf, size);
	if (n < 0) {
		errno = -n;
		err_errno("dmesg", 0);
		free(buf);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (start && buf[i] == '<') {
			int j = i + 1;

			while (j < n && buf[j] >= '0' && buf[j] <= '9')
				j++;
			if (j < n && buf[j] == '>') {
				i = j;
				start = 0;
				continue;
			}
		}
		start = buf[i] == '\n';
		write(1, &buf[i], 1);
	}
	free(buf);
	if (clear)
		my_syscall3(__NR_syslog, SYSLOG_ACTION_CLEAR, 0, 0);
	return 0;
}

static int b_uname(int argc, char **argv)
{
	SB_DECL(s, 512);
	struct utsname u;
	const char *opts = argc > 1 ? argv[1] : "-s";
	int all = !strcmp(opts, "-a");

	if (uname(&u) < 0) {
		err_errno("uname", 0);
		return 1;
	}
	if (opts[0] != '-') {
		err3("usage: uname [-asnrvm]", "", "");
		return 2;
	}
	if (all || strchr(opts, 's')) { sb_puts(&s, u.sysname); sb_putc(&s, ' '); }
	if (all || strchr(opts, 'n')) { sb_puts(&s, u.nodename); sb_putc(&s, ' '); }
	if (all || strchr(opts, 'r')) { sb_puts(&s, u.release); sb_putc(&s, ' '); }
	if (all || strchr(opts, 'v')) { sb_puts(&s, u.version); sb_putc(&s, ' '); }
	if (all || strchr(opts, 'm')) { sb_puts(&s, u.machine); sb_putc(&s, ' '); }
	if (s.len)
		s.len--; /* trailing blank */
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 0;
}

static int b_sleep(int argc, char **argv)
{
	uint64_t ms;

	if (argc != 2 || rt_parse_fixed(argv[1], 3, &ms) < 0) {
		err3("usage: sleep SECONDS (e.g. 1 or 0.25)", "", "");
		return 2;
	}
	if (rt_sleep_ns(ms * 1000000ull) < 0) {
		interrupted = 0;
		return 130;
	}
	return 0;
}

static int b_power(int argc, char **argv)
{
	int cmd = !strcmp(argv[0], "reboot") ? LINUX_REBOOT_CMD_RESTART : LINUX_REBOOT_CMD_POWER_OFF;

	my_syscall0(__NR_sync);
	reboot(cmd);
	err_errno(argv[0], 0);
	return 1;
}

static int b_cd(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/";

	if (chdir(dir) < 0) {
		err_errno("cd", dir);
		return 1;
	}
	return 0;
}

static int b_pwd(int argc, char **argv)
{
	char buf[256];

	if (my_syscall2(__NR_getcwd, buf, sizeof(buf) - 1) < 0) {
		err3("pwd: failed", "", "");
		return 1;
	}
	rt_puts(1, buf);
	rt_puts(1, "\n");
	return 0;
}

static int b_help(int argc, char **argv);

static int exit_requested = -1;

static int b_exit(int argc, char **argv)
{
	uint32_t code = 0;

	if (argc > 1 && rt_parse_u32(argv[1], &code) < 0) {
		err3("exit: bad status ", argv[1], "");
		return 2;
	}
	exit_requested = (int)(code & 0xff);
	return exit_requested;
}

struct builtin {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static const struct builtin builtins[] = {
	{ "cat", b_cat, "cat [FILE...]         print files (stdin without FILE)" },
	{ "cd", b_cd, "cd [DIR]              change directory" },
	{ "chmod", b_chmod, "chmod MODE FILE...    set permissions (octal, e.g. 755)" },
	{ "cp", b_cp, "cp SRC DST|DIR        copy files" },
	{ "dmesg", b_dmesg, "dmesg [-c] [-n LEVEL] kernel log; -n sets the console log level" },
	{ "echo", b_echo, "echo [-n] WORD...     print words" },
	{ "exit", b_exit, "exit [STATUS]         leave this shell (init starts a new one)" },
	{ "help", b_help, "help                  this list" },
	{ "ln", b_ln, "ln [-s] TARGET LINK   hard or symbolic link" },
	{ "ls", b_ls, "ls [-la] [PATH...]    list directories" },
	{ "mkdir", b_mkdir, "mkdir [-p] DIR...     make directories" },
	{ "mount", b_mount, "mount [-t TYPE SRC DIR] mount, or list mounts" },
	{ "mv", b_mv, "mv SRC DST|DIR        move or rename" },
	{ "poweroff", b_power, "poweroff              power the machine off (SBI SRST)" },
	{ "pwd", b_pwd, "pwd                   print the working directory" },
	{ "reboot", b_power, "reboot                restart the machine" },
	{ "rm", b_rm, "rm [-rf] FILE...      remove files (-r: directories too)" },
	{ "rmdir", b_rmdir, "rmdir DIR...          remove empty directories" },
	{ "sleep", b_sleep, "sleep SECONDS         wait (decimals allowed)" },
	{ "stat", b_stat, "stat FILE...          type, size, mode, links, inode, mtime" },
	{ "sync", b_sync, "sync                  write cached data out" },
	{ "touch", b_touch, "touch FILE...         create, or set the times to now" },
	{ "umount", b_umount, "umount DIR            unmount" },
	{ "uname", b_uname, "uname [-asnrvm]       system information" },
};

static int b_help(int argc, char **argv)
{
	unsigned int i;

	rt_puts(1, "builtins:\n");
	for (i = 0; i < RT_ARRAY_LEN(builtins); i++) {
		rt_puts(1, "  ");
		rt_puts(1, builtins[i].usage);
		rt_puts(1, "\n");
	}
	rt_puts(1, "programs in /bin:\n"
		"  pcm info|play|rec|loop  ALSA PCM tool (pcm -h for options)\n"
		"  cpubench                fixed CPU workload, prints time and checksum\n"
		"  forkbench, pfbench,     kernel-heavy workloads (fork+exec, page faults,\n"
		"  pipebench, sysbench     pipe ping-pong, system calls), each prints its time\n"
		"  fsbench [-k] DIR [MIB]  file system throughput and small-file rate in DIR\n"
		"the host's shared folder is at /mnt (when shared); run a program there by path: /mnt/prog\n"
		"commands are separated by ';'; a command ending in & runs in the background;\n"
		"CMD > FILE writes its output to FILE, >> appends;\n"
		"^C interrupts the foreground program\n");
	return 0;
}

/* ---- running commands ---- */

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGTRAP: return "SIGTRAP";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGSEGV: return "SIGSEGV";
	case SIGPIPE: return "SIGPIPE";
	case SIGTERM: return "SIGTERM";
	default: return "signal";
	}
}

/* Reports how a child ended when it is worth saying ("sh: NAME: exit status 3", "killed by
 * SIGSEGV"); returns the shell status for it (128 + signal when killed). */
static int child_status(const char *name, int status)
{
	SB_DECL(s, 160);
	int code;

	sb_puts(&s, "sh: ");
	sb_puts(&s, name);
	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		if (code == 0 || code == 127 || code == 126)
			return code; /* 126/127 were already explained by the child */
		sb_puts(&s, ": exit status ");
		sb_u64(&s, (uint64_t)code);
		sb_putc(&s, '\n');
	} else {
		code = 128 + WTERMSIG(status);
		sb_puts(&s, ": killed by ");
		sb_puts(&s, signal_name(WTERMSIG(status)));
		sb_puts(&s, " (");
		sb_u64(&s, (uint64_t)WTERMSIG(status));
		sb_puts(&s, (status & 0x80) ? "), core dumped\n" : ")\n");
	}
	sb_flush(&s, 2);
	return code;
}

/* Background commands still running: their pid and name, for the report when they end. */
#define MAX_JOBS 8
static struct {
	int pid;
	char name[32];
} jobs[MAX_JOBS];

static void job_started(int pid, const char *name)
{
	unsigned int i;
	SB_DECL(s, 32);

	for (i = 0; i < MAX_JOBS; i++) {
		if (jobs[i].pid == 0) {
			jobs[i].pid = pid;
			strlcpy(jobs[i].name, name, sizeof(jobs[i].name));
			break;
		}
	}
	sb_putc(&s, '[');
	sb_u64(&s, (uint64_t)pid);
	sb_puts(&s, "]\n");
	sb_flush(&s, 2);
}

/* Reaps the background commands that ended: "[pid] done NAME", plus why if it failed. */
static void jobs_reap(void)
{
	int pid, status, i;

	while ((pid = rt_waitpid(-1, &status, 1)) > 0) {
		const char *name = "?";
		SB_DECL(s, 64);

		for (i = 0; i < MAX_JOBS; i++) {
			if (jobs[i].pid == pid) {
				jobs[i].pid = 0;
				name = jobs[i].name;
			}
		}
		sb_putc(&s, '[');
		sb_u64(&s, (uint64_t)pid);
		sb_puts(&s, "] done ");
		sb_puts(&s, name);
		sb_putc(&s, '\n');
		sb_flush(&s, 2);
		child_status(name, status);
	}
}

/* Runs /bin/NAME (or NAME with a '/'), or builtin b in a child when it goes to the background.
 * In the background it returns 0 at once: no job control, so the job ignores ^C and reads
 * /dev/null, as in a non-interactive POSIX shell. */
static int run_child(int argc, char **argv, const struct builtin *b, int background)
{
	char path[LINE_MAX_LEN];
	int pid, status = 0, r;

	/* a path (/mnt/prog, ./prog) as it is, else /bin/NAME; the line limits its length */
	path[0] = 0;
	if (!strchr(argv[0], '/'))
		strlcpy(path, "/bin/", sizeof(path));
	strlcat(path, argv[0], sizeof(path));
	pid = fork();
	if (pid < 0) {
		err_errno("fork", 0);
		return 1;
	}
	if (pid == 0) {
		if (background) {
			int null_fd = open("/dev/null", O_RDONLY, 0);

			rt_signal(SIGINT, (void (*)(int))1);
			rt_signal(SIGQUIT, (void (*)(int))1);
			if (null_fd >= 0) {
				dup2(null_fd, 0);
				close(null_fd);
			}
		}
		if (b)
			exit(b->fn(argc, argv) & 0xff);
		execve(path, argv, environ);
		if (errno == ENOENT)
			err3(argv[0], ": not found (try help)", "");
		else
			err_errno(argv[0], 0);
		exit(errno == ENOENT ? 127 : 126);
	}
	if (background) {
		job_started(pid, argv[0]);
		return 0;
	}
	do {
		r = rt_waitpid(pid, &status, 0);
	} while (r == -EINTR);
	interrupted = 0;
	if (r < 0)
		return 1;
	return child_status(argv[0], status);
}

static int dispatch(int argc, char **argv, int background)
{
	unsigned int i;

	for (i = 0; i < RT_ARRAY_LEN(builtins); i++) {
		if (strcmp(argv[0], builtins[i].name))
			continue;
		if (background)
			return run_child(argc, argv, &builtins[i], 1);
		return builtins[i].fn(argc, argv);
	}
	return run_child(argc, argv, 0, background);
}

/* Takes `> FILE` / `>> FILE` out of the words; *out is the file (0: none). Returns the new word
 * count, or -1 on a syntax error. */
static int take_redirection(int argc, char **argv, const char **out, int *append)
{
	int i, k = 0;

	*out = 0;
	for (i = 0; i < argc; i++) {
		if (argv[i] != redir_out && argv[i] != redir_append) {
			argv[k++] = argv[i];
			continue;
		}
		if (i + 1 >= argc || argv[i + 1] == redir_out || argv[i + 1] == redir_append) {
			err3("syntax error: no file after ", argv[i], "");
			return -1;
		}
		*append = argv[i] == redir_append;
		*out = argv[++i];
	}
	argv[k] = 0;
	return k;
}

static int run_words(int argc, char **argv, int background)
{
	const char *out;
	int append = 0, saved = -1, status;

	argc = take_redirection(argc, argv, &out, &append);
	if (argc < 0)
		return 2;
	if (out) {
		int fd = open(out, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0666);

		if (fd < 0) {
			err_errno("cannot create", out);
			return 1;
		}
		saved = dup(1);
		dup2(fd, 1);
		close(fd);
	}
	status = argc > 0 ? dispatch(argc, argv, background) : 0;
	if (saved >= 0) {
		dup2(saved, 1);
		close(saved);
	}
	return status;
}

/* Runs every command of a line; returns the status of the last one. */
static int run_line(char *line)
{
	char *words[MAX_WORDS];
	int status = 0;

	while (line && exit_requested < 0) {
		int background = 0;
		int n = split_command(&line, words, MAX_WORDS, &background);

		if (n > 0)
			status = run_words(n, words, background);
	}
	return status;
}

static int run_stream(int show_prompt)
{
	char line[LINE_MAX_LEN];
	int status = 0, n;

	while (exit_requested < 0) {
		jobs_reap();
		if (show_prompt) {
			tty_raw();
			rt_puts(1, "# ");
		}
		n = read_line(line, sizeof(line));
		if (n == -1)
			break;
		if (n < 0)
			continue;
		tty_restore(); /* commands see a normal tty: canonical input, ^C echoed */
		status = run_line(line);
	}
	tty_restore();
	return exit_requested >= 0 ? exit_requested : status;
}

int main(int argc, char **argv)
{
	rt_signal(SIGINT, on_sigint);
	rt_signal(SIGQUIT, on_sigint);
	/* no job control: ^Z must not stop the only shell on the console */
	rt_signal(SIGTSTP, (void (*)(int))1);
	rt_signal(SIGTTIN, (void (*)(int))1);
	rt_signal(SIGTTOU, (void (*)(int))1);

	if (argc >= 3 && !strcmp(argv[1], "-c"))
		return run_line(argv[2]) & 0xff;
	if (argc == 2) {
		int fd = open(argv[1], O_RDONLY, 0);

		if (fd < 0) {
			err_errno("cannot open", argv[1]);
			return 127;
		}
		dup2(fd, 0);
		close(fd);
		return run_stream(0) & 0xff;
	}
	interactive = ioctl(0, TCGETS, &saved_tio) == 0;
	return run_stream(1) & 0xff;
}
