# SPDX-License-Identifier: GPL-2.0
# Sphinx configuration of the project's documentation (make docs).
#
# Only what Debian's python3-sphinx ships: no extensions, no theme
# downloaded, nothing fetched from the network. make docs runs
# sphinx-build with -W --keep-going -n: every warning, including a
# reference that resolves to nothing, fails the build.

import os

project = 'ivshmem'
author = 'the ivshmem module authors'
copyright = 'the ivshmem module authors, GPL-2.0'
_version = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                        'VERSION')
with open(_version) as f:
    version = release = f.read().strip()

root_doc = master_doc = 'index'
extensions = []
exclude_patterns = ['_build']
templates_path = []
html_static_path = []
# The kernel's convention for literals in these files: ``code``.
highlight_language = 'none'
html_theme = 'alabaster'
html_last_updated_fmt = None
html_show_sourcelink = False
