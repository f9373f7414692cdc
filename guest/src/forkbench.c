/* /bin/forkbench - process creation: fork + execve + wait, N times.
 *
 *   forkbench [ROUNDS]     (default 200)
 *
 * The child execs this same program (/proc/self/exe) with "-x", which exits at once: every
 * round pays for a
 * fork (copying the page tables, COW faults), an exec (a new address space, ELF load,
 * faults on the new image), an exit and the parent's wait.
 */
#include "kbench.h"

#define NAME "forkbench"

int main(int argc, char **argv)
{
	static char *const child_argv[] = { "/proc/self/exe", "-x", 0 };
	uint32_t rounds, r;
	struct kb_mark t0;
	int pid, status = 0;

	if (argc == 2 && strcmp(argv[1], "-x") == 0)
		return 0;
	if (kb_rounds(argc, argv, NAME, 200, &rounds) < 0)
		return 2;
	kb_start(&t0);
	for (r = 0; r < rounds; r++) {
		pid = fork();
		if (pid < 0)
			return kb_fail(NAME, "fork", errno);
		if (pid == 0) {
			execve(child_argv[0], child_argv, environ);
			exit(127);
		}
		pid = rt_waitpid(pid, &status, 0);
		if (pid < 0)
			return kb_fail(NAME, "wait", pid);
		if (status != 0)
			return kb_fail(NAME, "the child (exec)", ENOEXEC);
	}
	kb_report(NAME, &t0, rounds);
	return 0;
}
