import { setGpuProvider } from './provider.js';

/**
 * Chromium's software Vulkan driver, used when no other Vulkan driver is named (Debian's chromium package ships it).
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * WebGPU in Node through the `webgpu` npm package (Dawn). With no GPU driver configured and Debian's
 * Chromium installed, it points the Vulkan loader at Chromium's SwiftShader (needs the system's libvulkan1).
 * Returns false, changing nothing, when the package is not installed.
 */
export async function useNodeWebGpu(dawnOptions: string[] = []): Promise<boolean> {
  let mod: { create(options: string[]): GPU };
  try {
    mod = (await import('webgpu' as string)) as { create(options: string[]): GPU };
  } catch {
    return false;
  }
  // node:fs is loaded here, not at the top, so a browser bundle that inlines this module never imports it
  const { existsSync } = await import('node:fs');
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD))
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  setGpuProvider(mod.create(dawnOptions));
  return true;
}
