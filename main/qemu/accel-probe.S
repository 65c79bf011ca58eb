# The accelerator probe's guest: a 64 KiB firmware image (qemu -bios) that does what every 64-bit
# kernel does first and reports each step on COM1: real mode 'R' -> protected mode 'P' -> paging and
# long mode enabled 'G' -> 64-bit code 'L' -> a local APIC timer interrupt woke it from hlt 'I',
# then exits QEMU through isa-debug-exit (value 0x21: QEMU's exit status (0x21 << 1) | 1 = 67).
# Why these steps: see accel-probe.ts. GNU as syntax; assembled into accel-probe-image.generated.ts
# by `node scripts/gen-accel-probe.mjs` (needs binutils: as, ld).
	.set ROM_BASE, 0xffff0000             # where the last 64 KiB of the image sit below 4 GiB
	.set COM1, 0x3f8
	.set DEBUG_EXIT, 0x501                # isa-debug-exit's default port
	.set PASSED, 0x21
	.set LAPIC, 0xfee00000
	.set TIMER_VECTOR, 0x40
	.set IDT, 0x5000

	.code16
start16:                                 # reached from the reset vector at the end, CS base ROM_BASE
	cli
	mov $COM1, %dx
	mov $'R', %al
	out %al, %dx
	lgdtl %cs:(gdtr - start16)
	mov %cr0, %eax
	or $1, %eax                          # PE
	mov %eax, %cr0
	ljmpl $0x08, $(ROM_BASE + start32 - start16)

	.code32
start32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x8000, %esp
	mov $'P', %al
	out %al, %dx
	# RAM 0x1000-0x5fff: PML4, PDPT, page directory for 0-1 GiB, for 3-4 GiB, IDT
	xor %eax, %eax
	mov $0x1000, %edi
	mov $(0x5000 / 4), %ecx
	rep stosl
	movl $0x2003, 0x1000                 # PML4[0] -> PDPT
	movl $0x3003, 0x2000                 # PDPT[0] -> PD 0-1 GiB
	movl $0x4003, 0x2018                 # PDPT[3] -> PD 3-4 GiB
	movl $0x00000083, 0x3000             # 0-2 MiB: page tables, IDT, stack (2 MiB page)
	movl $(LAPIC | 0x93), 0x4000 + ((LAPIC - 0xc0000000) >> 21) * 8   # local APIC, uncached
	movl $0xffe00083, 0x4000 + 511 * 8   # this image
	mov %cr4, %eax
	or $0x20, %eax                       # PAE
	mov %eax, %cr4
	mov $0x1000, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx                # EFER
	rdmsr
	or $0x100, %eax                      # LME
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax                 # PG
	mov %eax, %cr0
	mov $COM1, %dx
	mov $'G', %al
	out %al, %dx
	ljmp $0x18, $(ROM_BASE + start64 - start16)

	.code64
start64:
	mov $'L', %al
	out %al, %dx
	# IDT entry for the timer: 64-bit interrupt gate, selector 0x18, offset ROM_BASE + (timer - start16)
	movl $((0x18 << 16) | ((timer - start16) & 0xffff)), IDT + TIMER_VECTOR * 16
	movl $0xffff8e00, IDT + TIMER_VECTOR * 16 + 4
	lidt idtr(%rip)
	mov $LAPIC, %ebx
	movl $0x1ff, 0xf0(%rbx)              # spurious-interrupt vector register: APIC software-enabled
	movl $0xb, 0x3e0(%rbx)               # timer divide by 1
	movl $TIMER_VECTOR, 0x320(%rbx)      # LVT timer: one-shot, unmasked
	movl $0x100000, 0x380(%rbx)          # initial count (about 1 ms at QEMU's 1 GHz APIC clock)
	sti
1:	hlt
	jmp 1b

timer:
	mov $'I', %al
	out %al, %dx
	mov $DEBUG_EXIT, %dx
	mov $PASSED, %al
	out %al, %dx
2:	hlt
	jmp 2b

	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff             # 0x08 code, 32-bit, flat
	.quad 0x00cf92000000ffff             # 0x10 data, flat
	.quad 0x00af9a000000ffff             # 0x18 code, 64-bit
gdtr:
	.word gdtr - gdt - 1
	.long ROM_BASE + gdt - start16
idtr:
	.word TIMER_VECTOR * 16 + 15
	.quad IDT

	.code16
	.org 0xfff0                          # the reset vector: CS base ROM_BASE, IP 0xfff0
	jmp start16
	.org 0x10000
