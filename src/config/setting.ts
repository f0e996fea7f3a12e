import { Type } from 'typebox';

/** A whole-number setting: its default, its bounds and what it means (the README's words). */
export const int = (defaultValue: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: defaultValue, minimum, maximum, description });
