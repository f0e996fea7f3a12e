/**
 * URL keys of a venue's sections, in map order: the name lower-cased, anything but letters and
 * digits made "-"; a name that gives an empty key is "s-<position>", a taken key gets "-<position>" (or the next
 * free number) added.
 */
export function sectionKeys(names: string[]): string[] {
  const taken = new Set<string>();
  return names.map((name, i) => {
    const slug = name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60);
    const base = slug === '' ? `s-${i + 1}` : slug;
    let key = base;
    for (let n = i + 1; taken.has(key); n += 1) key = `${base}-${n}`;
    taken.add(key);
    return key;
  });
}
