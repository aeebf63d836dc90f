/* floor: the least an HTTP/1.1 server can do per request, as a yardstick.
 *
 * One thread, one epoll instance, non-blocking sockets, level-triggered.
 * Every file of the root folder is read into memory at start-up with its
 * response head in front of it, so a request costs one read(2) of the
 * request and one write(2) of the answer, and nothing else: no parsing
 * beyond the path, no file system, no clock, no timeouts, no logging.
 * It assumes that each read holds one whole request, which is true of a
 * keep-alive client that waits for each answer (wrk, say). Every real
 * server does what this does and more, so a server's CPU time per request
 * over the floor's is the price of everything it does more.
 *
 * usage: floor -addr 127.0.0.1:PORT -root DIR
 */
#define _GNU_SOURCE /* accept4 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXFILES 64
#define MAXFD 65536

static struct { char path[260]; char *resp; size_t len; } files[MAXFILES];
static int nfiles;
static char notfound[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/* Per connection, indexed by descriptor: the answer still to be sent, and
 * whether epoll watches the socket for room to write (else for input). */
static const char *out[MAXFD];
static size_t left[MAXFD];
static char wantout[MAXFD];

static void die(const char *what) { perror(what); exit(1); }

/* load reads every regular file of root, behind its response head. */
static void load(const char *root) {
	DIR *d = opendir(root);
	struct dirent *e;
	if (!d) die(root);
	while ((e = readdir(d)) && nfiles < MAXFILES) {
		char p[4096], head[256];
		struct stat st;
		FILE *fp;
		snprintf(p, sizeof p, "%s/%s", root, e->d_name);
		if (stat(p, &st) || !S_ISREG(st.st_mode) || !(fp = fopen(p, "rb"))) continue;
		int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nServer: floor\r\n"
			"Content-Type: application/octet-stream\r\nContent-Length: %lld\r\n\r\n",
			(long long)st.st_size);
		snprintf(files[nfiles].path, sizeof files[0].path, "/%s", e->d_name);
		files[nfiles].len = h + st.st_size;
		files[nfiles].resp = malloc(files[nfiles].len);
		memcpy(files[nfiles].resp, head, h);
		if (fread(files[nfiles].resp + h, 1, st.st_size, fp) != (size_t)st.st_size) die(p);
		fclose(fp);
		nfiles++;
	}
	closedir(d);
}

/* answer picks the response for "GET /path HTTP/1.1 ...", by path alone. */
static void answer(int fd, const char *req, size_t n) {
	const char *p = memchr(req, ' ', n), *end = p ? memchr(p + 1, ' ', req + n - p - 1) : NULL;
	out[fd] = notfound, left[fd] = sizeof notfound - 1;
	for (int i = 0; end && i < nfiles; i++)
		if (strlen(files[i].path) == (size_t)(end - p - 1) && !memcmp(files[i].path, p + 1, end - p - 1))
			out[fd] = files[i].resp, left[fd] = files[i].len;
}

/* watch tells epoll what fd waits for, only when that changes: a request
 * answered by one write costs no epoll_ctl at all. */
static void watch(int ep, int fd, int writing) {
	struct epoll_event ev = {.events = writing ? EPOLLOUT : EPOLLIN, .data.fd = fd};
	if (wantout[fd] != writing) epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	wantout[fd] = writing;
}

/* flush writes what is left of fd's answer; -1 means the client is gone. */
static int flush(int ep, int fd) {
	ssize_t w = write(fd, out[fd], left[fd]);
	if (w < 0 && errno != EAGAIN) return -1;
	if (w > 0) out[fd] += w, left[fd] -= w;
	watch(ep, fd, left[fd] > 0);
	return 0;
}

int main(int argc, char **argv) {
	const char *addr = "127.0.0.1:8080", *root = ".";
	for (int i = 1; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "-addr")) addr = argv[i + 1];
		else if (!strcmp(argv[i], "-root")) root = argv[i + 1];
	load(root);
	signal(SIGPIPE, SIG_IGN); /* a write to a reset socket returns EPIPE instead */

	char host[64];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(colon ? atoi(colon + 1) : 0)};
	snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - addr) : 0, addr);
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("-addr");
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 4096)) die("listen");
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, ready[256];
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("floor listening on http://%s (root %s, %d files)\n", addr, root, nfiles);
	fflush(stdout);

	static char buf[4096];
	for (;;) {
		int n = epoll_wait(ep, ready, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = ready[i].data.fd;
			if (fd == lfd) {
				int c;
				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (c >= MAXFD) { close(c); continue; }
					/* The same socket options as serverlab's evloop: answers
					 * leave at once, and at most 128 KiB waits unsent, so
					 * the server's core does its own sending (see evloop). */
					int lowat = 128 << 10;
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					setsockopt(c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
					ev.data.fd = c, wantout[c] = 0, left[c] = 0;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			if (left[fd] == 0) { /* readable: a request (or the end) */
				ssize_t r = read(fd, buf, sizeof buf);
				if (r < 0 && errno == EAGAIN) continue;
				if (r <= 0) { close(fd); continue; }
				answer(fd, buf, r);
			}
			if (flush(ep, fd) < 0) close(fd);
		}
	}
}
