/* /bin/fbtest - draws known patterns on the virtio-gpu screen, for tests and benchmarks.
 *
 *   fbtest bars [SECONDS]    eight colour bars through a DRM dumb buffer (KMS), shown for
 *                            SECONDS (default: until killed); then the console comes back
 *   fbtest square [FRAMES]   a 64x64 white square moving over dark blue, each frame flushed
 *                            with DIRTYFB on the rectangle it touched (default 120 frames)
 *   fbtest fps [FRAMES]      full-screen redraws (DIRTYFB of the whole screen), timed
 *   fbtest fb [SECONDS]      the colour bars through /dev/fb0 (fbdev emulation, the VT in
 *                            graphics mode so the console does not draw over them)
 *   fbtest text TEXT         clears the console on /dev/tty1 and writes TEXT at its top left
 *
 * Bars, left to right, 0xRRGGBB: FFFFFF FFFF00 00FFFF 00FF00 FF00FF FF0000 0000FF 000000, bar i
 * covering x in [i*W/8, (i+1)*W/8). Every mode ends with one machine-readable line:
 *   fbtest: bars width=1024 height=768 pitch=4096 mode=1024x768
 *   fbtest: fps frames=120 ms=2345 fps=51.2 width=1024 height=768
 *   fbtest: error <what>: <why>
 */
#include "rt.h"
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/fb.h>
#include <linux/kd.h>

#define MAX_MODES 64
#define SQUARE 64

static const uint32_t bar_colours[8] = {
	0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x000000,
};

struct screen {
	int fd;
	uint32_t width, height, pitch, fb_id, crtc_id, connector_id, handle;
	uint32_t *pixels;
	uint64_t size;
	struct drm_mode_modeinfo mode;
};

static int fail(const char *what, int err)
{
	SB_DECL(s, 256);

	sb_puts(&s, "fbtest: error ");
	sb_puts(&s, what);
	sb_puts(&s, ": ");
	sb_puts(&s, rt_strerror(err));
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
	return 1;
}

static int drm_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && (errno == EINTR || errno == EAGAIN));
	return r;
}

/* The first connected connector, its preferred (first) mode and a CRTC for it. */
static int find_output(struct screen *s)
{
	static struct drm_mode_modeinfo modes[MAX_MODES];
	struct drm_mode_card_res res;
	struct drm_mode_get_connector conn;
	struct drm_mode_get_encoder enc;
	uint32_t connectors[8], crtcs[8], encoders[8];
	uint32_t i;

	memset(&res, 0, sizeof(res));
	if (drm_ioctl(s->fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return fail("GETRESOURCES", errno);
	if (res.count_connectors > 8)
		res.count_connectors = 8;
	if (res.count_crtcs > 8)
		res.count_crtcs = 8;
	res.count_fbs = res.count_encoders = 0;
	res.connector_id_ptr = (uint64_t)(unsigned long)connectors;
	res.crtc_id_ptr = (uint64_t)(unsigned long)crtcs;
	if (drm_ioctl(s->fd, DRM_IOCTL_MODE_GETRESOURCES, &res) < 0)
		return fail("GETRESOURCES", errno);
	for (i = 0; i < res.count_connectors; i++) {
		memset(&conn, 0, sizeof(conn));
		conn.connector_id = connectors[i];
		if (drm_ioctl(s->fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) < 0) /* probes */
			continue;
		if (conn.connection != 1 || conn.count_modes == 0)
			continue;
		if (conn.count_modes > MAX_MODES)
			conn.count_modes = MAX_MODES;
		if (conn.count_encoders > 8)
			conn.count_encoders = 8;
		conn.modes_ptr = (uint64_t)(unsigned long)modes;
		conn.encoders_ptr = (uint64_t)(unsigned long)encoders;
		conn.count_props = 0;
		if (drm_ioctl(s->fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) < 0)
			return fail("GETCONNECTOR", errno);
		s->connector_id = connectors[i];
		s->mode = modes[0];
		s->crtc_id = res.count_crtcs ? crtcs[0] : 0;
		memset(&enc, 0, sizeof(enc));
		enc.encoder_id = conn.encoder_id ? conn.encoder_id : encoders[0];
		if (drm_ioctl(s->fd, DRM_IOCTL_MODE_GETENCODER, &enc) == 0 && enc.crtc_id)
			s->crtc_id = enc.crtc_id;
		return s->crtc_id ? 0 : fail("no CRTC", ENODEV);
	}
	return fail("no connected output", ENODEV);
}

/* A dumb buffer the size of the mode, mapped, and a framebuffer on it. */
static int make_fb(struct screen *s)
{
	struct drm_mode_create_dumb cd;
	struct drm_mode_fb_cmd fb;
	struct drm_mode_map_dumb md;
	void *p;

	memset(&cd, 0, sizeof(cd));
	cd.width = s->mode.hdisplay;
	cd.height = s->mode.vdisplay;
	cd.bpp = 32;
	if (drm_ioctl(s->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd) < 0)
		return fail("CREATE_DUMB", errno);
	s->width = cd.width;
	s->height = cd.height;
	s->pitch = cd.pitch;
	s->size = cd.size;
	s->handle = cd.handle;
	memset(&fb, 0, sizeof(fb));
	fb.width = cd.width;
	fb.height = cd.height;
	fb.pitch = cd.pitch;
	fb.bpp = 32;
	fb.depth = 24;
	fb.handle = cd.handle;
	if (drm_ioctl(s->fd, DRM_IOCTL_MODE_ADDFB, &fb) < 0)
		return fail("ADDFB", errno);
	s->fb_id = fb.fb_id;
	memset(&md, 0, sizeof(md));
	md.handle = cd.handle;
	if (drm_ioctl(s->fd, DRM_IOCTL_MODE_MAP_DUMB, &md) < 0)
		return fail("MAP_DUMB", errno);
	p = mmap(0, (size_t)cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, (off_t)md.offset);
	if (p == MAP_FAILED)
		return fail("mmap", errno);
	s->pixels = p;
	return 0;
}

static int open_screen(struct screen *s)
{
	struct drm_mode_crtc crtc;

	memset(s, 0, sizeof(*s));
	s->fd = open("/dev/dri/card0", O_RDWR, 0);
	if (s->fd < 0)
		return fail("open /dev/dri/card0", errno);
	if (find_output(s) || make_fb(s))
		return 1;
	memset(&crtc, 0, sizeof(crtc));
	crtc.crtc_id = s->crtc_id;
	crtc.fb_id = s->fb_id;
	crtc.set_connectors_ptr = (uint64_t)(unsigned long)&s->connector_id;
	crtc.count_connectors = 1;
	crtc.mode = s->mode;
	crtc.mode_valid = 1;
	if (drm_ioctl(s->fd, DRM_IOCTL_MODE_SETCRTC, &crtc) < 0)
		return fail("SETCRTC", errno);
	return 0;
}

/* Tells the kernel which part of the framebuffer changed: TRANSFER_TO_HOST_2D + RESOURCE_FLUSH. */
static int dirty(struct screen *s, uint32_t x1, uint32_t y1, uint32_t x2, uint32_t y2)
{
	struct drm_clip_rect clip = { (unsigned short)x1, (unsigned short)y1, (unsigned short)x2, (unsigned short)y2 };
	struct drm_mode_fb_dirty_cmd d;

	memset(&d, 0, sizeof(d));
	d.fb_id = s->fb_id;
	d.num_clips = 1;
	d.clips_ptr = (uint64_t)(unsigned long)&clip;
	return drm_ioctl(s->fd, DRM_IOCTL_MODE_DIRTYFB, &d) < 0 ? fail("DIRTYFB", errno) : 0;
}

static void fill_rect(uint32_t *px, uint32_t pitch, uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t colour)
{
	uint32_t i, j;

	for (j = y; j < y + h; j++) {
		uint32_t *row = (uint32_t *)((char *)px + (size_t)j * pitch);

		for (i = x; i < x + w; i++)
			row[i] = colour;
	}
}

static void draw_bars(uint32_t *px, uint32_t pitch, uint32_t width, uint32_t height)
{
	uint32_t i;

	for (i = 0; i < 8; i++) {
		uint32_t x0 = i * width / 8, x1 = (i + 1) * width / 8;

		fill_rect(px, pitch, x0, 0, x1 - x0, height, bar_colours[i]);
	}
}

static void report_size(const char *verb, uint32_t w, uint32_t h, uint32_t pitch)
{
	SB_DECL(s, 160);

	sb_puts(&s, "fbtest: ");
	sb_puts(&s, verb);
	sb_puts(&s, " width=");
	sb_u64(&s, w);
	sb_puts(&s, " height=");
	sb_u64(&s, h);
	sb_puts(&s, " pitch=");
	sb_u64(&s, pitch);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

/* Sleeps `seconds` (0: until killed). */
static void hold(uint32_t seconds)
{
	if (!seconds)
		for (;;)
			rt_sleep_ns(3600000000000ull);
	rt_sleep_ns((uint64_t)seconds * 1000000000ull);
}

static int do_bars(uint32_t seconds)
{
	struct screen s;

	if (open_screen(&s))
		return 1;
	draw_bars(s.pixels, s.pitch, s.width, s.height);
	if (dirty(&s, 0, 0, s.width, s.height))
		return 1;
	report_size("bars", s.width, s.height, s.pitch);
	hold(seconds);
	return 0;
}

static void report_fps(const char *verb, uint32_t frames, uint64_t ns, uint32_t w, uint32_t h)
{
	SB_DECL(s, 200);
	uint64_t ms = ns / 1000000;

	sb_puts(&s, "fbtest: ");
	sb_puts(&s, verb);
	sb_puts(&s, " frames=");
	sb_u64(&s, frames);
	sb_puts(&s, " ms=");
	sb_u64(&s, ms);
	sb_puts(&s, " fps=");
	sb_fix(&s, (int64_t)(ns ? (uint64_t)frames * 10000000000ull / ns : 0), 1);
	sb_puts(&s, " width=");
	sb_u64(&s, w);
	sb_puts(&s, " height=");
	sb_u64(&s, h);
	sb_putc(&s, '\n');
	sb_flush(&s, 1);
}

static int do_square(uint32_t frames)
{
	struct screen s;
	uint32_t f, x = 0, y = 0, px = 0, py = 0;
	int dx = 8, dy = 6;
	uint64_t t0;

	if (open_screen(&s))
		return 1;
	fill_rect(s.pixels, s.pitch, 0, 0, s.width, s.height, 0x000040);
	if (dirty(&s, 0, 0, s.width, s.height))
		return 1;
	t0 = rt_now_ns();
	for (f = 0; f < frames; f++) {
		fill_rect(s.pixels, s.pitch, px, py, SQUARE, SQUARE, 0x000040);
		fill_rect(s.pixels, s.pitch, x, y, SQUARE, SQUARE, 0xffffff);
		if (dirty(&s, x < px ? x : px, y < py ? y : py, (x > px ? x : px) + SQUARE, (y > py ? y : py) + SQUARE))
			return 1;
		px = x;
		py = y;
		if ((int)x + dx < 0 || x + dx + SQUARE > s.width)
			dx = -dx;
		if ((int)y + dy < 0 || y + dy + SQUARE > s.height)
			dy = -dy;
		x += dx;
		y += dy;
	}
	report_fps("square", frames, rt_now_ns() - t0, s.width, s.height);
	return 0;
}

static int do_fps(uint32_t frames)
{
	struct screen s;
	uint32_t f;
	uint64_t t0;

	if (open_screen(&s))
		return 1;
	t0 = rt_now_ns();
	for (f = 0; f < frames; f++) {
		/* A different colour every frame, so every frame really changes every pixel. */
		fill_rect(s.pixels, s.pitch, 0, 0, s.width, s.height, (f * 0x010305u) & 0xffffff);
		if (dirty(&s, 0, 0, s.width, s.height))
			return 1;
	}
	report_fps("fps", frames, rt_now_ns() - t0, s.width, s.height);
	return 0;
}

static int do_fb(uint32_t seconds)
{
	struct fb_var_screeninfo var;
	struct fb_fix_screeninfo fix;
	int fd, tty;
	void *p;

	fd = open("/dev/fb0", O_RDWR, 0);
	if (fd < 0)
		return fail("open /dev/fb0", errno);
	if (ioctl(fd, FBIOGET_VSCREENINFO, &var) < 0 || ioctl(fd, FBIOGET_FSCREENINFO, &fix) < 0)
		return fail("FBIOGET_*SCREENINFO", errno);
	if (var.bits_per_pixel != 32)
		return fail("not a 32-bit framebuffer", EINVAL);
	p = mmap(0, fix.smem_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap /dev/fb0", errno);
	tty = open("/dev/tty1", O_RDWR, 0);
	if (tty >= 0)
		ioctl(tty, KDSETMODE, (void *)KD_GRAPHICS); /* the console stops drawing */
	draw_bars(p, fix.line_length, var.xres, var.yres);
	report_size("fb", var.xres, var.yres, fix.line_length);
	hold(seconds);
	if (tty >= 0)
		ioctl(tty, KDSETMODE, (void *)KD_TEXT);
	return 0;
}

static int do_text(const char *text)
{
	int fd = open("/dev/tty1", O_WRONLY, 0);

	if (fd < 0)
		return fail("open /dev/tty1", errno);
	rt_puts(fd, "\033[2J\033[H");
	rt_puts(fd, text);
	close(fd);
	rt_puts(1, "fbtest: text\n");
	return 0;
}

static int usage(void)
{
	rt_puts(2, "usage: fbtest bars [SECONDS] | square [FRAMES] | fps [FRAMES] | fb [SECONDS] | text TEXT\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint32_t n = 0;

	if (argc < 2)
		return usage();
	if (argc > 2 && strcmp(argv[1], "text") && rt_parse_u32(argv[2], &n) < 0)
		return usage();
	if (!strcmp(argv[1], "bars"))
		return do_bars(n);
	if (!strcmp(argv[1], "square"))
		return do_square(argc > 2 ? n : 120);
	if (!strcmp(argv[1], "fps"))
		return do_fps(argc > 2 ? n : 60);
	if (!strcmp(argv[1], "fb"))
		return do_fb(n);
	if (!strcmp(argv[1], "text") && argc == 3)
		return do_text(argv[2]);
	return usage();
}
