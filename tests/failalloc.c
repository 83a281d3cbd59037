/*
 * failalloc.c - an LD_PRELOAD shim for test_faults: calloc() fails, as
 * it does when memory runs out, for any request of FAILALLOC_MIN bytes
 * or more (every request when FAILALLOC_MIN is unset).  Others are
 * served by malloc(), which the shim leaves alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *
calloc(size_t nmemb, size_t size)
{
	size_t n = nmemb;
	const char *min = getenv("FAILALLOC_MIN");
	void *p;

	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if (min == NULL || n * size >= strtoul(min, NULL, 10)) {
		errno = ENOMEM;
		return NULL;
	}
	if (n * size == 0)
		return malloc(1);
	if ((p = malloc(n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}
