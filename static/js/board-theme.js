/* Projector board, before the first paint: the remembered theme and the "js" class.
 *
 * A classic script loaded in <head> without defer (board.js is a module, and modules wait
 * for the document), so a board remembered as light never flashes dark. The choice is
 * ?theme= > remembered > prefers-color-scheme (CSS) > dark (CSS); board.js reads it back
 * from the <html> classes. */
(function () {
  'use strict';
  var root = document.documentElement;
  root.classList.add('js');
  var KEY = 'dq:board:theme';
  var THEMES = ['dark', 'light'];
  var chosen = new URLSearchParams(window.location.search).get('theme');
  try {
    if (THEMES.indexOf(chosen) >= 0) localStorage.setItem(KEY, chosen);
    else chosen = localStorage.getItem(KEY);
  } catch (e) { /* private mode: not remembered */ }
  if (THEMES.indexOf(chosen) >= 0) root.classList.add('theme-' + chosen);
})();
