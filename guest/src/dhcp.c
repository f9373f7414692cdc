/* /bin/dhcp - configure a network interface by DHCP (RFC 2131), once.
 *
 *   dhcp [IFNAME] [-t MS]      default eth0; MS: how long to wait per attempt (default 1000)
 *
 * Brings the interface up; with no carrier it says so and stops at once (exit 2), so a boot with
 * the link down costs nothing. Otherwise DISCOVER → OFFER → REQUEST → ACK over a packet socket
 * (a DHCP server may answer to the offered address, which an unconfigured IP stack would drop),
 * three attempts; then sets the address, netmask, MTU and default route, writes the DNS servers
 * to /etc/resolv.conf, and prints one line:
 *
 *   dhcp: eth0 addr=192.0.2.2/24 gw=192.0.2.1 dns=192.0.2.1 mtu=1500 lease=3600 ms=41
 *
 * or `dhcp: error <what>: <why>` with exit status 1.
 */
#include "net.h"

#define ATTEMPTS 3
#define BOOTP_LEN 240 /* fixed BOOTP part up to and including the magic cookie */
#define PKT_MAX 1500

enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5, NAK = 6 };

struct lease {
	uint32_t addr, mask, router, server, dns[3];
	int ndns, mtu, type;
	uint32_t seconds;
};

static const char *ifname = "eth0";
static uint8_t mac[6];
static uint32_t xid;

static int fail(const char *what, int err)
{
	SB_DECL(s, 160);

	sb_puts(&s, "dhcp: error ");
	sb_puts(&s, what);
	sb_puts(&s, ": ");
	sb_puts(&s, rt_strerror(-err));
	sb_putc(&s, '\n');
	sb_flush(&s, 2);
	return 1;
}

static uint16_t ip_checksum(const uint8_t *p, int n)
{
	uint32_t s = 0;
	int i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4/UDP/BOOTP packet from 0.0.0.0:68 to 255.255.255.255:67; returns its length. */
static int build(uint8_t *pkt, int type, const struct lease *offer)
{
	uint8_t *d = pkt + 28, *o;
	int len;

	memset(pkt, 0, PKT_MAX);
	d[0] = 1; /* BOOTREQUEST */
	d[1] = 1; /* Ethernet */
	d[2] = 6;
	memcpy(d + 4, &xid, 4);
	d[10] = 0x80; /* ask for broadcast replies */
	memcpy(d + 28, mac, 6);
	d[236] = 99, d[237] = 130, d[238] = 83, d[239] = 99; /* magic cookie */
	o = d + BOOTP_LEN;
	*o++ = 53, *o++ = 1, *o++ = (uint8_t)type;
	if (type == REQUEST) {
		*o++ = 50, *o++ = 4, memcpy(o, &offer->addr, 4), o += 4; /* requested address */
		*o++ = 54, *o++ = 4, memcpy(o, &offer->server, 4), o += 4; /* server identifier */
	}
	*o++ = 55, *o++ = 5, *o++ = 1, *o++ = 3, *o++ = 6, *o++ = 26, *o++ = 51; /* parameters */
	*o++ = 255;
	len = (int)(o - pkt);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint32_t)len);
	pkt[8] = 64;
	pkt[9] = NET_IPPROTO_UDP;
	memset(pkt + 16, 0xff, 4);
	put16(pkt + 10, ip_checksum(pkt, 20));
	put16(pkt + 20, 68);
	put16(pkt + 22, 67);
	put16(pkt + 24, (uint32_t)(len - 20)); /* UDP checksum 0: none, as IPv4 allows */
	return len;
}

/* Parses a reply for us into *l; 0 if it is one, -1 otherwise. */
static int parse(const uint8_t *p, int n, struct lease *l)
{
	const uint8_t *d, *o, *end = p + n;
	int ihl;

	if (n < 20 || (p[0] >> 4) != 4 || p[9] != NET_IPPROTO_UDP)
		return -1;
	ihl = (p[0] & 15) * 4;
	if (n < ihl + 8 + BOOTP_LEN || (p[ihl + 2] << 8 | p[ihl + 3]) != 68)
		return -1;
	d = p + ihl + 8;
	if (d[0] != 2 || memcmp(d + 4, &xid, 4) || memcmp(d + 28, mac, 6))
		return -1;
	memset(l, 0, sizeof(*l));
	memcpy(&l->addr, d + 16, 4);
	for (o = d + BOOTP_LEN; o < end && *o != 255; ) {
		int code = *o, len;

		if (code == 0) {
			o++;
			continue;
		}
		if (o + 2 > end || o + 2 + o[1] > end)
			return -1;
		len = o[1];
		o += 2;
		if (code == 53 && len == 1)
			l->type = o[0];
		else if (code == 1 && len == 4)
			memcpy(&l->mask, o, 4);
		else if (code == 3 && len >= 4)
			memcpy(&l->router, o, 4);
		else if (code == 54 && len == 4)
			memcpy(&l->server, o, 4);
		else if (code == 26 && len == 2)
			l->mtu = o[0] << 8 | o[1];
		else if (code == 51 && len == 4)
			l->seconds = (uint32_t)o[0] << 24 | (uint32_t)o[1] << 16 | (uint32_t)o[2] << 8 | o[3];
		else if (code == 6)
			for (; len >= 4 && l->ndns < 3; len -= 4, o += 4)
				memcpy(&l->dns[l->ndns++], o, 4);
		o += len;
	}
	return l->type ? 0 : -1;
}

/* Sends `type` and waits up to ms for a reply of type `want` (or NAK); 0, or -errno. */
static int exchange(int ps, int ifindex, int type, int want, int ms, struct lease *l)
{
	static uint8_t pkt[PKT_MAX];
	struct net_sockaddr_ll to;
	uint64_t end;
	int n;

	memset(&to, 0, sizeof(to));
	to.family = NET_AF_PACKET;
	to.protocol = net_htons(NET_ETH_P_IP);
	to.ifindex = ifindex;
	to.halen = 6;
	memset(to.addr, 0xff, 6);
	n = build(pkt, type, l);
	n = net_sendto(ps, pkt, (size_t)n, &to, sizeof(to));
	if (n < 0)
		return n;
	end = rt_now_ns() + (uint64_t)ms * 1000000;
	for (;;) {
		uint64_t now = rt_now_ns();
		int r;

		if (now >= end)
			return -ETIMEDOUT;
		r = net_wait(ps, NET_POLLIN, (int)((end - now) / 1000000) + 1);
		if (r < 0 && r != -EINTR)
			return r;
		if (r <= 0)
			continue;
		n = net_recv(ps, pkt, sizeof(pkt));
		if (n > 0 && parse(pkt, n, l) == 0 && (l->type == want || l->type == NAK))
			return l->type == want ? 0 : -EACCES;
	}
}

static int ifreq_ioctl(int fd, unsigned long req, struct net_ifreq *r)
{
	strlcpy(r->name, ifname, sizeof(r->name));
	return my_syscall3(__NR_ioctl, fd, req, r);
}

static int set_in(int fd, unsigned long req, uint32_t a)
{
	struct net_ifreq r;

	memset(&r, 0, sizeof(r));
	r.u.in.family = NET_AF_INET;
	r.u.in.addr = a;
	return ifreq_ioctl(fd, req, &r);
}

static int apply(int fd, const struct lease *l)
{
	struct net_rtentry rt;
	struct net_sockaddr_in *sin;
	struct net_ifreq r;
	int e;

	if ((e = set_in(fd, NET_SIOCSIFADDR, l->addr)) < 0 || (e = set_in(fd, NET_SIOCSIFNETMASK, l->mask)) < 0)
		return e;
	if (l->mtu >= 68) {
		memset(&r, 0, sizeof(r));
		r.u.ivalue = l->mtu;
		ifreq_ioctl(fd, NET_SIOCSIFMTU, &r); /* the device may cap it: keep its own then */
	}
	if (!l->router)
		return 0;
	memset(&rt, 0, sizeof(rt));
	sin = (struct net_sockaddr_in *)&rt.gateway;
	sin->family = NET_AF_INET;
	sin->addr = l->router;
	((struct net_sockaddr_in *)&rt.dst)->family = NET_AF_INET;
	((struct net_sockaddr_in *)&rt.genmask)->family = NET_AF_INET;
	rt.flags = NET_RTF_UP | NET_RTF_GATEWAY;
	rt.dev = (char *)ifname;
	e = my_syscall3(__NR_ioctl, fd, NET_SIOCADDRT, &rt);
	return e == -EEXIST ? 0 : e;
}

static void write_resolv(const struct lease *l)
{
	SB_DECL(s, 128);
	int i, fd;

	if (mkdir("/etc", 0755) < 0 && errno != EEXIST)
		return;
	fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	for (i = 0; i < l->ndns; i++) {
		sb_puts(&s, "nameserver ");
		sb_ipv4(&s, l->dns[i]);
		sb_putc(&s, '\n');
	}
	sb_flush(&s, fd);
	close(fd);
}

static int prefix_len(uint32_t mask)
{
	uint32_t m = net_htonl(mask);
	int n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

static void report(const struct lease *l, uint64_t t0)
{
	SB_DECL(s, 256);
	int i;

	sb_puts(&s, "dhcp: ");
	sb_puts(&s, ifname);
	sb_puts(&s, " addr=");
	sb_ipv4(&s, l->addr);
	sb_putc(&s, '/');
	sb_u64(&s, (uint64_t)prefix_len(l->mask));
	sb_puts(&s, " gw=");
	sb_ipv4(&s, l->router);
	sb_puts(&s, " dns=");
	for (i = 0; i < l->ndns; i++) {
		if (i)
			sb_putc(&s, ',');
		sb_ipv4(&s, l->dns[i]);
	}
	if (!l->ndns)
		sb_puts(&s, "none");
	sb_puts(&s, " mtu=");
	sb_u64(&s, (uint64_t)l->mtu);
	sb_puts(&s, " lease=");
	sb_u64(&s, l->seconds);
	sb_puts(&s, " ms=");
	sb_u64(&s, (rt_now_ns() - t0) / 1000000);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

static int has_carrier(void)
{
	char path[64] = "/sys/class/net/", buf[8];

	strlcat(path, ifname, sizeof(path));
	strlcat(path, "/carrier", sizeof(path));
	return net_read_file(path, buf, sizeof(buf)) > 0 && buf[0] == '1';
}

int main(int argc, char **argv)
{
	struct net_sockaddr_ll me;
	struct net_ifreq r;
	struct lease offer, ack;
	uint64_t t0 = rt_now_ns();
	uint32_t ms = 1000;
	int fd, ps, e, i, ifindex;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc && rt_parse_u32(argv[i + 1], &ms) == 0 && ms > 0 && ms < 600000)
			i++;
		else if (argv[i][0] != '-' && strlen(argv[i]) < 16)
			ifname = argv[i];
		else {
			rt_puts(2, "usage: dhcp [IFNAME] [-t MS]\n");
			return 2;
		}
	}
	fd = net_socket(NET_AF_INET, NET_SOCK_DGRAM, 0);
	if (fd < 0)
		return fail("socket", fd);
	memset(&r, 0, sizeof(r));
	if ((e = ifreq_ioctl(fd, NET_SIOCGIFINDEX, &r)) < 0)
		return fail(ifname, e);
	ifindex = r.u.ivalue;
	if ((e = net_if_up(fd, ifname)) < 0)
		return fail("bringing the interface up", e);
	if (!has_carrier()) {
		SB_DECL(s, 96);
		sb_puts(&s, "dhcp: ");
		sb_puts(&s, ifname);
		sb_puts(&s, " link down (no carrier): not configured\n");
		sb_flush(&s, 1);
		return 2;
	}
	memset(&r, 0, sizeof(r));
	if ((e = ifreq_ioctl(fd, NET_SIOCGIFHWADDR, &r)) < 0)
		return fail("reading the MAC address", e);
	memcpy(mac, r.u.hw.data, 6);
	xid = (uint32_t)(rt_now_ns() ^ (rt_now_ns() >> 32)) ^ ((uint32_t)mac[4] << 24 | mac[5]);

	ps = net_socket(NET_AF_PACKET, NET_SOCK_DGRAM, net_htons(NET_ETH_P_IP));
	if (ps < 0)
		return fail("packet socket", ps);
	memset(&me, 0, sizeof(me));
	me.family = NET_AF_PACKET;
	me.protocol = net_htons(NET_ETH_P_IP);
	me.ifindex = ifindex;
	if ((e = net_bind(ps, &me, sizeof(me))) < 0)
		return fail("binding the packet socket", e);
	for (i = 0, e = -ETIMEDOUT; i < ATTEMPTS && e < 0; i++) {
		e = exchange(ps, ifindex, DISCOVER, OFFER, (int)ms, &offer);
		if (e == 0) {
			ack = offer;
			e = exchange(ps, ifindex, REQUEST, ACK, (int)ms, &ack);
		}
	}
	if (e < 0)
		return fail("no lease", e);
	if (!ack.mask)
		ack.mask = net_htonl(0xffffff00u);
	if (!ack.server)
		ack.server = offer.server;
	if ((e = apply(fd, &ack)) < 0)
		return fail("configuring the interface", e);
	write_resolv(&ack);
	report(&ack, t0);
	return 0;
}
