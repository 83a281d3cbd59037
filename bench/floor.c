/*
 * floor - the least any wrapper can cost: a static program that only
 * execs its arguments.  "floor /path/to/mta arg" runs the MTA as a
 * wrapper would, with no decision, no log and no dynamic linking; the
 * latency it adds is one extra exec, which the bench holds sendwrap to.
 */
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 64;
	execv(argv[1], argv + 1);
	return 71;
}
