/** Special tokens every tokenizer of ours provides. */
export interface SpecialTokens {
  /** End of text: a response (and a document) ends here. */
  endOfText: number;
  system: number;
  user: number;
  assistant: number;
  /** End of a turn. */
  endOfTurn: number;
}

/**
 * A tokenizer: text to ids and back. Implementations are pluggable (byte-level
 * now, BPE later); the chat template only relies on this interface.
 */
export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  /** Encodes plain text; special-token spellings in the text stay plain text. */
  encode(text: string): number[];
  /** Decodes ids; special tokens decode to their spelling. Invalid UTF-8 becomes U+FFFD. */
  decode(ids: readonly number[]): string;
  /** Decodes ids to raw bytes (special tokens become nothing), for incremental UTF-8 decoding. */
  bytes(ids: readonly number[]): Uint8Array;
  /** The spelling of a token id, e.g. "<|user|>". */
  tokenText(id: number): string;
}
