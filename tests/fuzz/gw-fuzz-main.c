/*
 * Copyright 2026 The gwmo authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Replay driver: feeds every file named on the command line (directories are walked, one
 * level) to LLVMFuzzerTestOneInput, so each fuzz target also runs as an ordinary test over its
 * stored corpus, with gcc, under ASan/UBSan and valgrind.
 */

#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gint
compare_paths(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static gboolean
run_file(const gchar *path, guint *count)
{
	g_autofree gchar *data = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;

	if (!g_file_get_contents(path, &data, &len, &error)) {
		g_printerr("cannot read %s: %s\n", path, error->message);
		return FALSE;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	(*count)++;
	return TRUE;
}

int
main(int argc, char **argv)
{
	guint count = 0;

	g_setenv("G_DEBUG", "fatal-criticals", TRUE);
	for (int i = 1; i < argc; i++) {
		if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
			g_autoptr(GDir) dir = g_dir_open(argv[i], 0, NULL);
			const gchar *name;
			g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
			if (dir == NULL)
				return 1;
			while ((name = g_dir_read_name(dir)) != NULL)
				g_ptr_array_add(names, g_build_filename(argv[i], name, NULL));
			g_ptr_array_sort(names, compare_paths);
			for (guint j = 0; j < names->len; j++) {
				if (!run_file(g_ptr_array_index(names, j), &count))
					return 1;
			}
		} else if (!run_file(argv[i], &count)) {
			return 1;
		}
	}
	if (count == 0) {
		g_printerr("no corpus files given\n");
		return 1;
	}
	g_print("replayed %u inputs\n", count);
	return 0;
}
