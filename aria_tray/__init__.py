"""The one name Aria Tray installs into site-packages.

A ``pip install`` puts the app's folders under this package
(``aria_tray/desktop``, ``aria_tray/aria2_core``, ``aria_tray/resources``;
``pyproject.toml`` maps them from the repository's top-level folders), so
no generic top-level ``desktop`` package lands in site-packages. The app's
own code keeps importing ``desktop`` and ``aria2_core``: the ``aria-tray``
command starts through :mod:`aria_tray.launcher`, which makes those folders
importable first. In a source checkout ``python main.py`` needs none of it.
"""
