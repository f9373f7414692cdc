/* /bin/pipebench - context switches: two processes pass one byte back and forth through two
 * pipes, N round trips.
 *
 *   pipebench [ROUNDS]     (default 2000)
 *
 * Each round trip is two writes, two reads, and two switches between the processes (each
 * blocks in read until the other writes): the scheduler, the pipe code and, with two address
 * spaces, a satp switch each way.
 */
#include "kbench.h"

#define NAME "pipebench"

static int echo(int in, int out, uint32_t rounds)
{
	char c;
	uint32_t r;

	for (r = 0; r < rounds; r++) {
		if (read(in, &c, 1) != 1 || write(out, &c, 1) != 1)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t rounds, r;
	struct kb_mark t0;
	int ping[2], pong[2], pid, status = 0;
	char c = 'x';

	if (kb_rounds(argc, argv, NAME, 2000, &rounds) < 0)
		return 2;
	if (pipe(ping) < 0 || pipe(pong) < 0)
		return kb_fail(NAME, "pipe", errno);
	pid = fork();
	if (pid < 0)
		return kb_fail(NAME, "fork", errno);
	if (pid == 0)
		exit(echo(ping[0], pong[1], rounds));
	kb_start(&t0);
	for (r = 0; r < rounds; r++) {
		if (write(ping[1], &c, 1) != 1)
			return kb_fail(NAME, "write", errno);
		if (read(pong[0], &c, 1) != 1)
			return kb_fail(NAME, "read", errno);
	}
	kb_report(NAME, &t0, rounds);
	pid = rt_waitpid(pid, &status, 0);
	if (pid < 0)
		return kb_fail(NAME, "wait", pid);
	return status == 0 ? 0 : kb_fail(NAME, "the echoing child", EIO);
}
