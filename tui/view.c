// SPDX-License-Identifier: GPL-2.0-or-later
#include "view.h"

#include <stdio.h>

struct ct_view_ui *view_new(struct app *a, char *err, size_t errlen)
{
	(void)a;
	snprintf(err, errlen, "the interactive view is not built yet: use -b");
	return NULL;
}

void view_free(struct ct_view_ui *v)
{
	(void)v;
}

int view_input(struct ct_view_ui *v)
{
	(void)v;
	return 1;
}

void view_tick(struct ct_view_ui *v)
{
	(void)v;
}

int view_delay_changed(struct ct_view_ui *v)
{
	(void)v;
	return 0;
}
