"""Data retention: residents off the register for longer than ``retention_days`` lose their
personal data.

A resident who moved away or died stays on the ledger (history, figures, the sync feed's
tombstone). After the retention period (``DOORSTEP_PROXY_RETENTION_DAYS``, 365 by default) the
purge erases what identifies the person and keeps what the figures need:

- erased: the name (replaced by ``已清除``), the encrypted ID number and its lookup hash and
  last four digits, the encrypted phone and its hash, the encrypted disability certificate
  number, the free-text removal reason; on the resident's demands, the contact name and phone;
- deleted: every photo and scan attached to the resident's cases (``files/``), parts and all;
- kept: community, grid, compound, household, birth date, gender, the eligibility facts,
  benefits, status and dates, cases and visits (by id).

The encrypted ID number becomes the encryption of an empty string (readers keep decrypting
it and show an empty mask); its lookup hash becomes ``erased:<resident id>`` (unique, like the
hash it replaces), which is also how an erased resident is recognised. Each resident is erased
by one conditional ``UPDATE … WHERE id_number_hash NOT LIKE 'erased:%'``, so the purge is idempotent and safe with several replicas running it at once: a row
is erased, and audited, exactly once. Every erasure is recorded in the reveal audit trail
(``fields`` lists what was erased, ``reason`` starts with ``retention purge``) and in the
hash-chained audit log (action ``resident.erased``), and each run
logs one line and counts erasures in ``doorstep_proxy_retention_erased_total``.

The purge runs in the proxy's background work (``background.py``, every
``DOORSTEP_PROXY_RETENTION_INTERVAL`` seconds) and on demand: ``POST /api/v1/proxy/admin/purge``
(``users:manage``, county admins).
"""
