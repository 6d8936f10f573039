"""Branded SLA reports of a tenant and month (contract section 5).

Pure parts (no Django import): ``periods`` (months), ``text`` (summary,
glossary, comparison), ``csvfile`` (the CSV of section 5) and ``charts``
(plotly figures). Django parts: ``figures`` (gathers what a report shows from
the SLA engine and trends), ``pdf`` (WeasyPrint, charts through the warm
``renderer``), ``issuing`` (the one writer of issued reports), ``delivery``
(the monthly schedule and its e-mails), ``views`` and ``api``.

Other pages link to a tenant's reports through ``archive.reports_for_tenant``
and the URL names ``reports-archive``, ``reports-html``, ``reports-pdf`` and
``reports-csv``.
"""
