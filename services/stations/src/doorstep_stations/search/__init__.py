"""Search: stations near a point, open now, by kind of service or keyword (汉字, pinyin, initials)."""
