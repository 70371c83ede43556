// class-transformer exposes its metadata storage (needed to follow @Type() to nested classes) without types.
declare module 'class-transformer/cjs/storage' {
  export const defaultMetadataStorage: import('class-transformer/types/MetadataStorage').MetadataStorage
}
