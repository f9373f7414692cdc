/* /bin/http - a small HTTP/1.0 client and file server for the guest.
 *
 *   http get URL [-o FILE]         fetch URL (http://HOST[:PORT]/PATH); the body goes to FILE
 *                                  ("-" for stdout), else it is only counted and checksummed
 *   http serve PORT [DIR] [-n N]   serve the files under DIR (default /) on PORT, one request at
 *                                  a time; stop after N requests (default: never)
 *
 * HOST is a dotted quad, `host` (the host machine's loopback: passt maps the default gateway's
 * address to it), `localhost`, or a name looked up with the nameserver in /etc/resolv.conf.
 * Each transfer ends with one machine-readable line:
 *
 *   http: get status=200 bytes=65536 crc32=1c291ca3 ms=42
 *   http: serve GET /tmp/f status=200 bytes=65536 ms=40
 *
 * or `http: error get: <what>: <why>` (or serve), exit status 1. `bytes` and `crc32` (IEEE, as zlib) cover the
 * body only.
 */
#include "net.h"

#ifdef __NR_sendfile64
#define NR_SENDFILE __NR_sendfile64
#else
#define NR_SENDFILE __NR_sendfile
#endif

#define BUF_SIZE 65536
#define HEAD_MAX 4096
#define IO_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 5000

static uint8_t buf[BUF_SIZE];

/* Errors of name lookups, beyond errno's. */
#define ERR_NO_NAMESERVER 4096
#define ERR_NO_SUCH_HOST 4097

static const char *why(int err)
{
	if (err == -ERR_NO_NAMESERVER)
		return "no nameserver in /etc/resolv.conf (no DHCP lease?)";
	if (err == -ERR_NO_SUCH_HOST)
		return "no such host";
	return err < 0 ? rt_strerror(-err) : "not an HTTP response";
}

/* "http: error VERB: WHAT[ ARG]: WHY" on stderr; returns the exit status 1. */
static int fail(const char *verb, const char *what, const char *arg, int err)
{
	SB_DECL(s, 256);

	sb_puts(&s, "http: error ");
	sb_puts(&s, verb);
	sb_puts(&s, ": ");
	sb_puts(&s, what);
	if (arg) {
		sb_putc(&s, ' ');
		sb_puts(&s, arg);
	}
	sb_puts(&s, ": ");
	sb_puts(&s, why(err));
	sb_putc(&s, '\n');
	sb_flush(&s, 2);
	return 1;
}

static uint64_t ms_since(uint64_t t0)
{
	return (rt_now_ns() - t0) / 1000000;
}

/* ---- names ---- */

/* One A-record lookup (RFC 1035) with the first nameserver of /etc/resolv.conf. */
static int dns_lookup(const char *name, uint32_t *out)
{
	static char conf[1024];
	struct net_sockaddr_in ns;
	uint8_t *p = buf, *end;
	const char *c, *label;
	int fd, n, tries, an, i;

	if (net_read_file("/etc/resolv.conf", conf, sizeof(conf)) < 0)
		return -ERR_NO_NAMESERVER;
	for (c = conf; *c && strncmp(c, "nameserver ", 11); c++) /* nolibc has no strstr */
		;
	if (!*c)
		return -ERR_NO_NAMESERVER;
	c += 11;
	{
		char ip[16];
		for (i = 0; i < 15 && ((c[i] >= '0' && c[i] <= '9') || c[i] == '.'); i++)
			ip[i] = c[i];
		ip[i] = 0;
		memset(&ns, 0, sizeof(ns));
		if (net_parse_ipv4(ip, &ns.addr) < 0)
			return -ERR_NO_NAMESERVER;
	}
	ns.family = NET_AF_INET;
	ns.port = net_htons(53);
	memset(p, 0, 12);
	p[0] = 0x5e, p[1] = 0x3a, p[2] = 1, p[5] = 1; /* id, RD, one question */
	p += 12;
	for (label = name; *label; ) {
		const char *dot = strchr(label, '.');
		int len = dot ? (int)(dot - label) : (int)strlen(label);
		if (len == 0 || len > 63 || p + len + 6 > buf + 512)
			return -EINVAL;
		*p++ = (uint8_t)len;
		memcpy(p, label, (size_t)len);
		p += len;
		label += len + (dot ? 1 : 0);
	}
	*p++ = 0, *p++ = 0, *p++ = 1, *p++ = 0, *p++ = 1; /* root, type A, class IN */
	fd = net_socket(NET_AF_INET, NET_SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	if ((n = net_connect(fd, &ns, sizeof(ns))) < 0)
		goto out;
	for (tries = 0, n = -ETIMEDOUT; tries < 2 && n == -ETIMEDOUT; tries++) {
		my_syscall3(__NR_write, fd, buf, p - buf);
		n = net_wait(fd, NET_POLLIN, 2000);
		n = n > 0 ? net_recv(fd, buf, 512) : n == 0 ? -ETIMEDOUT : n;
	}
	if (n < 12 || buf[0] != 0x5e || buf[1] != 0x3a || (buf[3] & 15) != 0) {
		n = n < 0 ? n : -ERR_NO_SUCH_HOST;
		goto out;
	}
	end = buf + n;
	an = buf[6] << 8 | buf[7];
	for (p = buf + 12; p < end && *p; p += *p + 1) /* skip the question's name */
		;
	p += 5;
	for (n = -ERR_NO_SUCH_HOST; an-- > 0 && p + 12 <= end; ) {
		int rdlen;
		while (p < end && *p && (*p & 0xc0) != 0xc0)
			p += *p + 1;
		p += p < end && *p ? 2 : 1;
		if (p + 10 > end)
			break;
		rdlen = p[8] << 8 | p[9];
		if (p[0] == 0 && p[1] == 1 && p[2] == 0 && p[3] == 1 && rdlen == 4 && p + 14 <= end) {
			memcpy(out, p + 10, 4);
			n = 0;
			break;
		}
		p += 10 + rdlen;
	}
out:
	close(fd);
	return n;
}

static int resolve(const char *host, uint32_t *out)
{
	if (net_parse_ipv4(host, out) == 0)
		return 0;
	if (!strcmp(host, "host"))
		return net_default_gateway(out) == 0 ? 0 : -ENETUNREACH;
	if (!strcmp(host, "localhost"))
		return net_parse_ipv4("127.0.0.1", out);
	return dns_lookup(host, out);
}

/* ---- get ---- */

struct url {
	char host[128];
	uint16_t port;
	const char *path;
};

static int parse_url(const char *u, struct url *out)
{
	const char *h, *end;
	size_t n;

	if (strncmp(u, "http://", 7))
		return -1;
	h = u + 7;
	end = h;
	while (*end && *end != '/' && *end != ':')
		end++;
	n = (size_t)(end - h);
	if (n == 0 || n >= sizeof(out->host))
		return -1;
	memcpy(out->host, h, n);
	out->host[n] = 0;
	out->port = 80;
	if (*end == ':') {
		uint32_t port;
		char num[8];
		const char *e = ++end;
		while (*e >= '0' && *e <= '9' && e - end < 6)
			e++;
		if (e == end || (*e && *e != '/'))
			return -1;
		memcpy(num, end, (size_t)(e - end));
		num[e - end] = 0;
		if (rt_parse_u32(num, &port) < 0 || port == 0 || port > 65535)
			return -1;
		out->port = (uint16_t)port;
		end = e;
	}
	out->path = *end ? end : "/";
	return 0;
}

/* Reads until the end of the response head; returns its length (body bytes follow in buf up to *got). */
static int read_head(int fd, int *got)
{
	int n = 0;

	for (;;) {
		int i, r = net_wait(fd, NET_POLLIN, IO_TIMEOUT_MS);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && r != -EINTR)
			return r;
		r = net_recv(fd, buf + n, HEAD_MAX - (size_t)n);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? r : -ECONNRESET;
		n += r;
		for (i = 3; i < n; i++)
			if (buf[i - 3] == '\r' && buf[i - 2] == '\n' && buf[i - 1] == '\r' && buf[i] == '\n') {
				*got = n;
				return i + 1;
			}
		if (n >= HEAD_MAX)
			return -E2BIG;
	}
}

/* The value of header `name` (case-insensitive) in head[0, len), as a number; -1 if absent. */
static int64_t header_number(const uint8_t *head, int len, const char *name)
{
	size_t nl = strlen(name);
	int i;

	for (i = 0; i + (int)nl + 1 < len; i++) {
		size_t k;
		if (i > 0 && head[i - 1] != '\n')
			continue;
		for (k = 0; k < nl && (head[i + k] | 0x20) == (name[k] | 0x20); k++)
			;
		if (k == nl && head[i + k] == ':') {
			int64_t v = 0;
			const uint8_t *p = head + i + k + 1;
			while (*p == ' ')
				p++;
			if (*p < '0' || *p > '9')
				return -1;
			while (*p >= '0' && *p <= '9')
				v = v * 10 + (*p++ - '0');
			return v;
		}
	}
	return -1;
}

static int get(const char *u, const char *outpath)
{
	SB_DECL(s, 512);
	struct net_sockaddr_in to;
	struct url url;
	uint64_t t0 = rt_now_ns(), body = 0;
	uint32_t crc = 0;
	int64_t length;
	int fd, out = -1, e, head, got, status;

	if (parse_url(u, &url) < 0)
		return fail("get", "bad URL (use http://HOST[:PORT]/PATH)", 0, -EINVAL);
	memset(&to, 0, sizeof(to));
	to.family = NET_AF_INET;
	to.port = net_htons(url.port);
	if ((e = resolve(url.host, &to.addr)) < 0)
		return fail("get", "cannot resolve", url.host, e);
	fd = net_socket(NET_AF_INET, NET_SOCK_STREAM, 0);
	if (fd < 0)
		return fail("get", "socket", 0, fd);
	if ((e = net_connect_timeout(fd, &to, sizeof(to), CONNECT_TIMEOUT_MS)) < 0)
		return fail("get", "connect to", url.host, e);
	sb_puts(&s, "GET ");
	sb_puts(&s, url.path);
	sb_puts(&s, " HTTP/1.0\r\nHost: ");
	sb_puts(&s, url.host);
	sb_puts(&s, "\r\nUser-Agent: semu-guest-http\r\nConnection: close\r\n\r\n");
	if (s.len == s.cap)
		return fail("get", "URL too long", 0, -E2BIG);
	if ((e = net_write_all(fd, s.buf, s.len)) < 0)
		return fail("get", "sending the request", 0, e);
	s.len = 0;
	head = read_head(fd, &got);
	if (head < 0)
		return fail("get", "reading the response", 0, head);
	if (head < 12 || memcmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return fail("get", "reading the response", 0, 0);
	status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	length = header_number(buf, head, "Content-Length");
	if (outpath) {
		out = !strcmp(outpath, "-") ? 1 : open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out < 0)
			return fail("get", "cannot create", outpath, -errno);
	}
	for (int off = head, n = got - head;;) {
		if (length >= 0 && (int64_t)(body + (uint64_t)n) > length)
			n = (int)(length - (int64_t)body);
		if (n > 0) {
			crc = net_crc32(crc, buf + off, (size_t)n);
			body += (uint64_t)n;
			if (out >= 0 && (e = net_write_all(out, buf + off, (size_t)n)) < 0)
				return fail("get", "writing", outpath, e);
		}
		if (length >= 0 && (int64_t)body >= length)
			break;
		off = 0;
		e = net_wait(fd, NET_POLLIN, IO_TIMEOUT_MS);
		if (e == 0)
			return fail("get", "reading the body", 0, -ETIMEDOUT);
		n = net_recv(fd, buf, BUF_SIZE);
		if (n == -EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			return fail("get", "reading the body", 0, n);
		if (n == 0) {
			if (length >= 0)
				return fail("get", "body cut short", 0, -ECONNRESET);
			break;
		}
	}
	close(fd);
	if (out > 1)
		close(out);
	sb_puts(&s, "http: get status=");
	sb_u64(&s, (uint64_t)status);
	sb_puts(&s, " bytes=");
	sb_u64(&s, body);
	sb_puts(&s, " crc32=");
	sb_hex(&s, crc, 8);
	sb_puts(&s, " ms=");
	sb_u64(&s, ms_since(t0));
	sb_putc(&s, '\n');
	sb_flush(&s, out == 1 ? 2 : 1);
	return status >= 200 && status < 300 ? 0 : 1;
}

/* ---- serve ---- */

static int respond(int c, int status, const char *reason, uint64_t length)
{
	SB_DECL(s, 256);

	sb_puts(&s, "HTTP/1.0 ");
	sb_u64(&s, (uint64_t)status);
	sb_putc(&s, ' ');
	sb_puts(&s, reason);
	sb_puts(&s, "\r\nContent-Length: ");
	sb_u64(&s, length);
	sb_puts(&s, "\r\nContent-Type: ");
	sb_puts(&s, status == 200 ? "application/octet-stream" : "text/plain");
	sb_puts(&s, "\r\nConnection: close\r\n\r\n");
	return net_write_all(c, s.buf, s.len);
}

/* Sends the file's bytes: sendfile (no copy through user space), read/write if it is refused. */
static int64_t send_file(int c, int f, uint64_t size)
{
	uint64_t sent = 0;

	while (sent < size) {
		long n = my_syscall4(NR_SENDFILE, c, f, 0, size - sent > BUF_SIZE ? BUF_SIZE : size - sent);
		if (n == -EINTR)
			continue;
		if (n == -EINVAL || n == -ENOSYS) { /* fall back to copying */
			n = read(f, buf, BUF_SIZE);
			if (n > 0 && net_write_all(c, buf, (size_t)n) < 0)
				return -EPIPE;
		}
		if (n <= 0)
			return n < 0 ? n : (int64_t)sent;
		sent += (uint64_t)n;
	}
	return (int64_t)sent;
}

static const char *safe_path(char *path)
{
	const char *p;

	if (path[0] != '/')
		return 0;
	for (p = path; *p; p++)
		if (p[0] == '/' && p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == 0))
			return 0;
	return path;
}

static void serve_one(int c, const char *dir)
{
	SB_DECL(s, 512);
	char full[512];
	char *path, *sp;
	struct stat st;
	uint64_t t0 = rt_now_ns();
	int64_t sent = 0;
	int got, head, status, f;

	head = read_head(c, &got);
	if (head < 0)
		return;
	buf[head - 1] = 0;
	status = 400;
	path = (char *)buf + 4;
	if (!memcmp(buf, "GET ", 4) && (sp = strchr(path, ' ')) != 0) {
		*sp = 0;
		strlcpy(full, dir, sizeof(full));
		if (!safe_path(path)) {
			status = 403;
		} else if (strlcat(full, path, sizeof(full)) >= sizeof(full) || stat(full, &st) < 0 || (st.st_mode & S_IFMT) != S_IFREG) {
			status = 404;
		} else if ((f = open(full, O_RDONLY, 0)) < 0) {
			status = 403;
		} else {
			status = 200;
			if (respond(c, 200, "OK", (uint64_t)st.st_size) == 0)
				sent = send_file(c, f, (uint64_t)st.st_size);
			close(f);
		}
	} else {
		path = "?";
	}
	if (status != 200)
		respond(c, status, status == 404 ? "Not Found" : status == 403 ? "Forbidden" : "Bad Request", 0);
	sb_puts(&s, "http: serve GET ");
	sb_puts(&s, path);
	sb_puts(&s, " status=");
	sb_u64(&s, (uint64_t)status);
	sb_puts(&s, " bytes=");
	sb_u64(&s, sent > 0 ? (uint64_t)sent : 0);
	sb_puts(&s, " ms=");
	sb_u64(&s, ms_since(t0));
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

static int serve(const char *portarg, const char *dir, uint32_t count)
{
	struct net_sockaddr_in me;
	uint32_t port, done = 0;
	int fd, e;

	if (rt_parse_u32(portarg, &port) < 0 || port == 0 || port > 65535)
		return fail("serve", "bad port (use 1-65535)", portarg, -EINVAL);
	fd = net_socket(NET_AF_INET, NET_SOCK_STREAM, 0);
	if (fd < 0)
		return fail("serve", "socket", 0, fd);
	net_setsockopt_int(fd, NET_SOL_SOCKET, NET_SO_REUSEADDR, 1);
	memset(&me, 0, sizeof(me));
	me.family = NET_AF_INET;
	me.port = net_htons((uint16_t)port);
	if ((e = net_bind(fd, &me, sizeof(me))) < 0)
		return fail("serve", "bind port", portarg, e);
	if ((e = net_listen(fd, 8)) < 0)
		return fail("serve", "listen", 0, e);
	if (!strcmp(dir, "/"))
		dir = "";
	while (count == 0 || done < count) {
		int c = net_accept(fd);
		if (c == -EINTR)
			continue;
		if (c < 0)
			return fail("serve", "accept", 0, c);
		serve_one(c, dir);
		close(c);
		done++;
	}
	close(fd);
	return 0;
}

static int usage(void)
{
	rt_puts(2, "usage: http get URL [-o FILE]\n       http serve PORT [DIR] [-n COUNT]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "get")) {
		if (argc == 3)
			return get(argv[2], 0);
		if (argc == 5 && !strcmp(argv[3], "-o"))
			return get(argv[2], argv[4]);
		return usage();
	}
	if (argc >= 3 && !strcmp(argv[1], "serve")) {
		const char *dir = "/";
		uint32_t count = 0;
		int i;
		for (i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "-n") && i + 1 < argc && rt_parse_u32(argv[i + 1], &count) == 0)
				i++;
			else if (argv[i][0] == '/')
				dir = argv[i];
			else
				return usage();
		}
		return serve(argv[2], dir, count);
	}
	return usage();
}
