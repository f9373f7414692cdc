/* net.h - sockets for the guest's network tools (dhcp, http) on top of nolibc and rt.h.
 *
 * nolibc has no socket calls and the UAPI socket headers want a libc's <sys/socket.h>, so the
 * few structures needed (sockaddr_in, sockaddr_ll, ifreq, rtentry) are declared here with the
 * kernel's layout, and the calls are raw system calls. rv32 has only ppoll_time64 for waiting.
 * Addresses are kept in network byte order in a uint32_t, as the kernel wants them.
 */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include "rt.h"

#ifndef __NR_ppoll_time64
#define __NR_ppoll_time64 __NR_ppoll
#endif
#ifdef __NR_fcntl64
#define NET_NR_FCNTL __NR_fcntl64
#else
#define NET_NR_FCNTL __NR_fcntl
#endif

#define NET_AF_INET 2
#define NET_AF_PACKET 17
#define NET_SOCK_STREAM 1
#define NET_SOCK_DGRAM 2
#define NET_SOCK_CLOEXEC O_CLOEXEC
#define NET_SOL_SOCKET 1
#define NET_SO_REUSEADDR 2
#define NET_SO_BROADCAST 6
#define NET_SO_ERROR 4
#define NET_F_GETFL 3
#define NET_F_SETFL 4
#define NET_IPPROTO_TCP 6
#define NET_IPPROTO_UDP 17
#define NET_ETH_P_IP 0x0800
#define NET_POLLIN 1
#define NET_POLLOUT 4

#define NET_SIOCADDRT 0x890B
#define NET_SIOCGIFFLAGS 0x8913
#define NET_SIOCSIFFLAGS 0x8914
#define NET_SIOCSIFADDR 0x8916
#define NET_SIOCSIFNETMASK 0x891c
#define NET_SIOCSIFMTU 0x8922
#define NET_SIOCGIFHWADDR 0x8927
#define NET_SIOCGIFINDEX 0x8933
#define NET_IFF_UP 1
#define NET_RTF_UP 1
#define NET_RTF_GATEWAY 2

struct net_sockaddr_in {
	uint16_t family;
	uint16_t port; /* network order */
	uint32_t addr; /* network order */
	uint8_t zero[8];
};

struct net_sockaddr_ll {
	uint16_t family;
	uint16_t protocol; /* network order */
	int ifindex;
	uint16_t hatype;
	uint8_t pkttype;
	uint8_t halen;
	uint8_t addr[8];
};

/* struct ifreq: the name, then a union as large as struct ifmap (16 bytes on rv32, 24 on 64-bit). */
struct net_ifreq {
	char name[16];
	union {
		struct net_sockaddr_in in;
		struct { uint16_t family; uint8_t data[14]; } hw;
		short flags;
		int ivalue;
		char pad[24];
	} u;
};

struct net_sockaddr {
	uint16_t family;
	char data[14];
};

/* struct rtentry (include/uapi/linux/route.h) */
struct net_rtentry {
	unsigned long pad1;
	struct net_sockaddr dst;
	struct net_sockaddr gateway;
	struct net_sockaddr genmask;
	unsigned short flags;
	short pad2;
	unsigned long pad3;
	void *pad4;
	short metric;
	char *dev;
	unsigned long mtu;
	unsigned long window;
	unsigned short irtt;
};

static RT_UNUSED uint16_t net_htons(uint16_t v)
{
	return (uint16_t)((v << 8) | (v >> 8));
}

static RT_UNUSED uint32_t net_htonl(uint32_t v)
{
	return (v << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
}

/* ---- system calls: each returns the result or -errno ---- */

static RT_UNUSED int net_socket(int domain, int type, int proto)
{
	return my_syscall3(__NR_socket, domain, type | NET_SOCK_CLOEXEC, proto);
}

static RT_UNUSED int net_bind(int fd, const void *sa, int len)
{
	return my_syscall3(__NR_bind, fd, sa, len);
}

static RT_UNUSED int net_connect(int fd, const void *sa, int len)
{
	return my_syscall3(__NR_connect, fd, sa, len);
}

static RT_UNUSED int net_listen(int fd, int backlog)
{
	return my_syscall2(__NR_listen, fd, backlog);
}

static RT_UNUSED int net_accept(int fd)
{
	return my_syscall4(__NR_accept4, fd, 0, 0, NET_SOCK_CLOEXEC);
}

static RT_UNUSED int net_setsockopt_int(int fd, int level, int name, int value)
{
	return my_syscall5(__NR_setsockopt, fd, level, name, &value, sizeof(value));
}

static RT_UNUSED int net_sendto(int fd, const void *buf, size_t len, const void *sa, int salen)
{
	return my_syscall6(__NR_sendto, fd, buf, len, 0, sa, salen);
}

static RT_UNUSED int net_recv(int fd, void *buf, size_t len)
{
	return my_syscall6(__NR_recvfrom, fd, buf, len, 0, 0, 0);
}

/* connect() that gives up after timeout_ms (a peer that never answers must not hang a tool for
 * the two minutes of TCP's SYN retries); 0, or -errno (-ETIMEDOUT). */
static RT_UNUSED int net_connect_timeout(int fd, const void *sa, int len, int timeout_ms);

/* Waits up to timeout_ms (-1: forever) for `events` on fd: 1 ready, 0 timed out, -errno. */
static RT_UNUSED int net_wait(int fd, short events, int timeout_ms)
{
	struct pollfd p;
	struct rt_ts64 t;

	p.fd = fd;
	p.events = events;
	p.revents = 0;
	t.sec = timeout_ms / 1000;
	t.nsec = (int64_t)(timeout_ms % 1000) * 1000000;
	return my_syscall5(__NR_ppoll_time64, &p, 1, timeout_ms < 0 ? 0 : &t, 0, 0);
}

static RT_UNUSED int net_connect_timeout(int fd, const void *sa, int len, int timeout_ms)
{
	int flags = my_syscall3(NET_NR_FCNTL, fd, NET_F_GETFL, 0);
	int r, err = 0, errlen = sizeof(err);

	if (flags < 0)
		return flags;
	my_syscall3(NET_NR_FCNTL, fd, NET_F_SETFL, flags | O_NONBLOCK);
	r = net_connect(fd, sa, len);
	if (r == -EINPROGRESS) {
		r = net_wait(fd, NET_POLLOUT, timeout_ms);
		if (r == 0)
			r = -ETIMEDOUT;
		else if (r > 0)
			r = my_syscall5(__NR_getsockopt, fd, NET_SOL_SOCKET, NET_SO_ERROR, &err, &errlen) < 0 ? -EIO : -err;
	}
	my_syscall3(NET_NR_FCNTL, fd, NET_F_SETFL, flags);
	return r;
}

/* Writes all of buf; 0, or -errno. */
static RT_UNUSED int net_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = my_syscall3(__NR_write, fd, p, len);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- addresses ---- */

/* "a.b.c.d" → network-order address in *out; 0, or -1 if not a dotted quad. */
static RT_UNUSED int net_parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int part;

	for (part = 0; part < 4; part++) {
		uint32_t n = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			n = n * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || n > 255)
			return -1;
		v = (v << 8) | n;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*out = net_htonl(v);
	return 0;
}

static RT_UNUSED void sb_ipv4(struct sb *s, uint32_t a)
{
	const uint8_t *b = (const uint8_t *)&a;

	sb_u64(s, b[0]);
	sb_putc(s, '.');
	sb_u64(s, b[1]);
	sb_putc(s, '.');
	sb_u64(s, b[2]);
	sb_putc(s, '.');
	sb_u64(s, b[3]);
}

/* Reads a whole small file into buf (NUL-terminated); the length, or -errno. */
static RT_UNUSED int net_read_file(const char *path, char *buf, int cap)
{
	int fd = open(path, O_RDONLY, 0);
	int len = 0;

	if (fd < 0)
		return -errno;
	while (len < cap - 1) {
		ssize_t n = read(fd, buf + len, (size_t)(cap - 1 - len));

		if (n <= 0)
			break;
		len += (int)n;
	}
	close(fd);
	buf[len] = 0;
	return len;
}

static RT_UNUSED int net_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The default route's gateway from /proc/net/route (its fields are hex in network order). */
static RT_UNUSED int net_default_gateway(uint32_t *out)
{
	static char buf[4096];
	char *line;

	if (net_read_file("/proc/net/route", buf, sizeof(buf)) < 0)
		return -1;
	for (line = buf; *line; ) {
		/* Iface Destination Gateway Flags ... */
		char *p = line;
		uint32_t dst = 0, gw = 0;
		int i, ok = 1;

		while (*p && *p != '\t')
			p++;
		for (i = 0; i < 8 && ok; i++) {
			int h = *p ? net_hexval(*++p) : -1;
			ok = h >= 0;
			dst = (dst << 4) | (uint32_t)(h < 0 ? 0 : h);
		}
		p++;
		for (i = 0; i < 8 && ok; i++) {
			int h = net_hexval(*++p);
			ok = h >= 0;
			gw = (gw << 4) | (uint32_t)(h < 0 ? 0 : h);
		}
		/* /proc prints the network-order word as a native number ("%08X"): the number read
		 * back is that same word, whatever the byte order. */
		if (ok && dst == 0 && gw != 0) {
			*out = gw;
			return 0;
		}
		while (*line && *line != '\n')
			line++;
		if (*line)
			line++;
	}
	return -1;
}

/* ---- interfaces ---- */

/* Sets IFF_UP on an interface; 0, or -errno. */
static RT_UNUSED int net_if_up(int fd, const char *name)
{
	struct net_ifreq r;
	int e;

	memset(&r, 0, sizeof(r));
	strlcpy(r.name, name, sizeof(r.name));
	e = my_syscall3(__NR_ioctl, fd, NET_SIOCGIFFLAGS, &r);
	if (e < 0)
		return e;
	if (r.u.flags & NET_IFF_UP)
		return 0;
	r.u.flags |= NET_IFF_UP;
	return my_syscall3(__NR_ioctl, fd, NET_SIOCSIFFLAGS, &r);
}

/* ---- CRC-32 (IEEE 802.3, as zlib and `crc32` compute it) ---- */

static uint32_t net_crc_table[256];

static RT_UNUSED uint32_t net_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	if (net_crc_table[1] == 0) {
		uint32_t i, k, c;

		for (i = 0; i < 256; i++) {
			for (c = i, k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			net_crc_table[i] = c;
		}
	}
	crc = ~crc;
	while (n--)
		crc = net_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#endif /* GUEST_NET_H */
