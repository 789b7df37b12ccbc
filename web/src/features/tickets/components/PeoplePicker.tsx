// A people search box (ARIA combobox): type part of a name, pick with the arrows and Enter, or by click.
// The list holds only people the caller may see; someone else is added by typing their exact user id
// (the last option), which the server answers alike whether the id exists or not.
import { useEffect, useId, useState, type KeyboardEvent } from "react";
import { Avatar } from "@/components/Avatar";
import { TextInput } from "@/components/Field";
import { cn } from "@/lib/classNames";
import { usePeopleSearch, type Person } from "../api/people";

export interface Picked {
  id: string;
  name: string;
}

function useDebounced(value: string, ms: number): string {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return debounced;
}

export function PeoplePicker({
  id,
  value,
  onValueChange,
  onPick,
  exclude,
  placeholder = "Search people by name",
  describedBy,
}: {
  id: string;
  value: string;
  onValueChange: (text: string) => void;
  onPick: (person: Picked) => void;
  /** Ids already chosen (or already participants): not offered again. */
  exclude: string[];
  placeholder?: string;
  describedBy?: string;
}) {
  const listId = useId();
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const q = useDebounced(value.trim(), 200);
  const search = usePeopleSearch(q, open);
  const text = value.trim();
  const found: Person[] = (search.data ?? []).filter((p) => !exclude.includes(p.id));
  // Offered only for what could be an id (no spaces, a few characters), not for every letter typed.
  const byId = text.length >= 3 && !/\s/.test(text) && !exclude.includes(text) && !found.some((p) => p.id === text);
  const options: Picked[] = [...found, ...(byId ? [{ id: text, name: text }] : [])];
  const shown = open && (options.length > 0 || search.isFetching || !!q);
  const current = Math.min(active, options.length - 1);

  function pick(person: Picked) {
    onPick(person);
    onValueChange("");
    setActive(0);
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      setOpen(true);
      const step = e.key === "ArrowDown" ? 1 : -1;
      setActive((a) => (options.length ? (Math.min(a, options.length - 1) + step + options.length) % options.length : 0));
    } else if (e.key === "Enter" && shown && current >= 0 && options[current]) {
      e.preventDefault();
      pick(options[current]);
    } else if (e.key === "Escape" && shown) {
      e.preventDefault();
      e.stopPropagation(); // closes the list, not the dialog around it
      setOpen(false);
    }
  }

  return (
    <div className="relative">
      <TextInput
        id={id}
        role="combobox"
        aria-expanded={shown}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={shown && current >= 0 ? `${listId}-${current}` : undefined}
        aria-describedby={describedBy}
        autoComplete="off"
        placeholder={placeholder}
        value={value}
        onChange={(e) => {
          onValueChange(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <ul
        id={listId}
        role="listbox"
        aria-label="People"
        hidden={!shown}
        className="absolute inset-x-0 top-full z-50 mt-1 max-h-64 overflow-y-auto rounded-lg border border-line bg-panel p-1 shadow-lg"
      >
        {options.map((p, i) => {
          const isId = byId && i === options.length - 1;
          return (
            <li
              key={`${isId ? "id" : "p"}-${p.id}`}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === current}
              // mousedown, not click: the input's blur would close the list before the click lands
              onMouseDown={(e) => {
                e.preventDefault();
                pick(p);
              }}
              onMouseMove={() => setActive(i)}
              className={cn("flex min-h-11 cursor-pointer items-center gap-2 rounded-md px-2 py-1.5 text-sm", i === current ? "bg-accent-soft text-ink-strong" : "text-ink")}
            >
              {isId ? (
                <span className="min-w-0 truncate">
                  Add user id <span className="font-mono font-medium">{p.id}</span>
                </span>
              ) : (
                <>
                  <Avatar id={p.id} name={p.name} size={28} />
                  <span className="min-w-0 flex-1 truncate">{p.name}</span>
                  <span className="max-w-[40%] shrink-0 truncate text-xs text-muted">{p.id}</span>
                </>
              )}
            </li>
          );
        })}
        {!options.length && (
          <li role="presentation" className="px-2 py-2 text-sm text-muted">
            {search.isFetching ? "Searching…" : search.isError ? "Search failed; type a user id to add them." : "No one found."}
          </li>
        )}
      </ul>
    </div>
  );
}
