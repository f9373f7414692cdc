// The tap helper's C source. Node cannot attach to a TAP interface by itself: that takes the
// TUNSETIFF ioctl on /dev/net/tun, and Node has no ioctl. This small program does just that, then
// relays frames between the TAP interface and fd 3 in QEMU's stream protocol (4-byte big-endian
// length before each frame) — the same protocol passt speaks, so the I/O thread treats both alike.
// tap.ts compiles it with the host's C compiler on first use and caches the binary.
//
// Kept as a string so it ships inside the bundle with nothing else to package.

export const TAP_HELPER_C = String.raw`/* semu-tap: attach to TAP interface argv[1]; relay frames with fd 3 (4-byte BE length + frame). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define SOCK 3
#define ETH_HLEN 14
#define MAX_FRAME (65535 + ETH_HLEN)

static unsigned char in[4 + MAX_FRAME]; /* stream side: one length word and one frame */
static unsigned char out[4 + MAX_FRAME]; /* tap side: the frame behind its length word */

static int write_all(int fd, const unsigned char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes; 0 at a clean EOF before the first byte, -1 on error or a cut. */
static int read_all(int fd, unsigned char *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return got == 0 && r == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

/* One frame from the stream to the TAP interface; bad lengths are skipped. 0 at EOF. */
static int stream_to_tap(int tap)
{
	uint32_t len;
	int r = read_all(SOCK, in, 4);
	if (r <= 0)
		return r;
	len = ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | in[3];
	if (len > 16u << 20) {
		fprintf(stderr, "frame length %u: the stream is out of step\n", len);
		return -1;
	}
	if (len > MAX_FRAME || len < ETH_HLEN) { /* a bad length: skip the frame in pieces */
		while (len > 0) {
			size_t n = len > sizeof(in) ? sizeof(in) : len;
			if (read_all(SOCK, in, n) <= 0)
				return -1;
			len -= (uint32_t)n;
		}
		return 1;
	}
	if (read_all(SOCK, in + 4, len) <= 0)
		return -1;
	if (write(tap, in + 4, len) < 0 && errno != EAGAIN && errno != ENOBUFS)
		fprintf(stderr, "write to the TAP interface: %s\n", strerror(errno));
	return 1;
}

static int tap_to_stream(int tap)
{
	ssize_t n = read(tap, out + 4, MAX_FRAME);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	out[0] = (unsigned char)(n >> 24);
	out[1] = (unsigned char)(n >> 16);
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	return write_all(SOCK, out, 4 + (size_t)n) == 0 ? 1 : -1;
}

int main(int argc, char **argv)
{
	struct ifreq ifr;
	struct pollfd p[2];
	int tap;

	if (argc != 2 || strlen(argv[1]) >= IFNAMSIZ) {
		fprintf(stderr, "usage: semu-tap IFNAME (fd 3: the stream socket)\n");
		return 2;
	}
	tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap < 0) {
		fprintf(stderr, "cannot open /dev/net/tun: %s (tap needs root or CAP_NET_ADMIN)\n", strerror(errno));
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (ioctl(tap, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "cannot attach to TAP interface %s: %s (create it first: sudo ip tuntap add dev %s mode tap user $USER)\n",
			argv[1], strerror(errno), argv[1]);
		return 1;
	}
	p[0].fd = SOCK;
	p[0].events = POLLIN;
	p[1].fd = tap;
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int r = stream_to_tap(tap);
			if (r <= 0)
				return r == 0 ? 0 : 1; /* EOF: the emulator is gone */
		}
		if (p[1].revents & POLLIN && tap_to_stream(tap) < 0)
			return 1;
	}
}
`;
