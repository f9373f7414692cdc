/* File commands built into the guest shell (fileutil.c). Each takes argc/argv like main() and
 * returns the command's exit status. */
#ifndef GUEST_FILEUTIL_H
#define GUEST_FILEUTIL_H

int b_cp(int argc, char **argv);
int b_mv(int argc, char **argv);
int b_rm(int argc, char **argv);
int b_mkdir(int argc, char **argv);
int b_rmdir(int argc, char **argv);
int b_touch(int argc, char **argv);
int b_ln(int argc, char **argv);
int b_stat(int argc, char **argv);
int b_chmod(int argc, char **argv);
int b_sync(int argc, char **argv);

#endif
