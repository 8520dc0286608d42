"""Personal data (ID, phone and 一卡通 numbers): what every concept holding households shares.

- `identifiers`: validation (GB 11643 check character, Luhn) and masking for output;
- `keys`: keyed hashes (to match without the clear value) and field encryption for read models;
- `access`: reads and exports of unmasked personal data, recorded as events.
"""
