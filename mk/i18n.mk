# Translations (Flask-Babel): English source strings, Spanish and Brazilian Portuguese
# catalogues in discussion/translations. Included from the Makefile.
#
#   make i18n-extract   scan the code and templates into discussion/translations/messages.pot
#   make i18n-update    merge the .pot into the es and pt_BR catalogues (then translate them)
#   make i18n-compile   compile the catalogues into the .mo files the app reads; commit them
#                       with the .po: every install (pip, make, the deployment guide) serves
#                       the committed .mo files
#
# tests/test_i18n.py fails when the .pot is out of date, a message lacks a translation or a
# committed .mo differs from its .po.

I18N_DIR      := discussion/translations
I18N_POT      := $(I18N_DIR)/messages.pot
I18N_LOCALES  := es pt_BR
# Domain errors carry their English template as the second argument (discussion/errors.py);
# tests/test_i18n.py reads this line, so keep it on one line.
I18N_KEYWORDS := -k ValidationError:2 -k NotFound:2 -k Conflict:2 -k Forbidden:2 -k Unauthorized:2 -k RateLimited:2 -k DomainError:2 -k _fail:2

.PHONY: i18n-extract i18n-update i18n-compile

i18n-extract: install
	$(BIN)/pybabel extract -F babel.cfg $(I18N_KEYWORDS) --no-location --sort-output \
		--project discussion --copyright-holder "discussion contributors" \
		-o $(I18N_POT) .

i18n-update: install
	for locale in $(I18N_LOCALES); do \
		$(BIN)/pybabel update -i $(I18N_POT) -d $(I18N_DIR) -l $$locale \
			--no-fuzzy-matching --ignore-obsolete --init-missing || exit 1; \
	done

i18n-compile: install
	$(BIN)/pybabel compile -d $(I18N_DIR)
